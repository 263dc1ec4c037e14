# The deadline tests also run the `backends` tool (get and ls against the
# slow server), when it is built.
if(TARGET backends_cli)
  target_compile_definitions(${s3_test} PRIVATE
    BACKENDS_CLI_PATH="$<TARGET_FILE:backends_cli>")
  add_dependencies(${s3_test} backends_cli)
endif()
