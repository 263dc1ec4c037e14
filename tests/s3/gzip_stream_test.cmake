find_package(ZLIB REQUIRED)
target_link_libraries(${s3_test} PRIVATE ZLIB::ZLIB)
