# Included after s3_copy_test is made (see CMakeLists.txt here): the 6 GiB
# server-side copy, its own executable labelled s3-copy-large (not s3: the
# server must hold 12 GiB). scripts/test.sh runs it beside the other tests on
# a second radosgw that keeps objects on disk (RGW_STORE=file).
add_executable(s3_copy_large_test ${CMAKE_CURRENT_SOURCE_DIR}/s3_copy_large.cc)
target_include_directories(s3_copy_large_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(s3_copy_large_test PRIVATE backends_testutil
                      GTest::gtest_main CURL::libcurl OpenSSL::Crypto)
backends_set_warnings(s3_copy_large_test)
gtest_discover_tests(s3_copy_large_test DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS "s3-copy-large" TIMEOUT 1200)
