# Warnings on our own targets only (third-party headers are system includes).
function(backends_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    # Options structs are built with designated initializers that rely on
    # member defaults; g++ 12 would flag every omitted member.
    -Wno-missing-field-initializers)
  if(BACKENDS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # g++ 12 at -O2/-O3 reports a memcpy overlap inside libstdc++'s string
    # concatenation that cannot happen (GCC bug 105329); it stays a warning.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
       CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
  endif()
endfunction()

# Adds every sub-folder of the current source folder that has a
# CMakeLists.txt: each store family (and each test family) lives in its own
# folder and registers itself, so families never edit a shared list.
function(backends_add_family_subdirectories)
  file(GLOB children LIST_DIRECTORIES true RELATIVE
       ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND
       EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
