#pragma once

// The library's version, as the build that made it was told (CMake's
// project version: the one source of every version we print).

#include <string_view>

namespace backends {

/// "MAJOR.MINOR.PATCH" of the library linked in (which may be newer than
/// the headers a program was compiled against, with a shared library).
std::string_view Version();

}  // namespace backends
