# Included after s3_stream_test is made (see CMakeLists.txt here): the
# 1 GiB round trip, its own executable labelled s3-large (not s3: it moves
# 2 GiB, ~15-30 s), and s3_rss_probe, the child process whose peak memory
# it measures. Run it with `ctest -L s3-large` under the S3 server.
add_executable(s3_rss_probe ${CMAKE_CURRENT_SOURCE_DIR}/s3_rss_probe.cc)
target_include_directories(s3_rss_probe PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(s3_rss_probe PRIVATE backends)
backends_set_warnings(s3_rss_probe)

add_executable(s3_large_test ${CMAKE_CURRENT_SOURCE_DIR}/s3_large.cc)
target_include_directories(s3_large_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(s3_large_test PRIVATE backends_testutil GTest::gtest_main
                                            CURL::libcurl OpenSSL::Crypto)
target_compile_definitions(s3_large_test PRIVATE
  BACKENDS_RSS_PROBE="$<TARGET_FILE:s3_rss_probe>")
add_dependencies(s3_large_test s3_rss_probe)
backends_set_warnings(s3_large_test)
gtest_discover_tests(s3_large_test DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS "s3-large" TIMEOUT 600)
