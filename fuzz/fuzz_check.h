#pragma once

// FUZZ_CHECK: a property every input must keep; a violation aborts, which
// libFuzzer reports as a crash and saves the input.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                               \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: property violated: %s\n  %s\n", __FILE__, \
                   __LINE__, #cond, std::string(what).c_str());              \
      std::abort();                                                          \
    }                                                                        \
  } while (0)
