#include "backends/version.h"

namespace backends {

std::string_view Version() { return BACKENDS_LIBRARY_VERSION; }

}  // namespace backends
