#pragma once

// The check of a WriteCondition against the version a key holds, shared by
// the stores that make the check and the write one step themselves.

#include <optional>
#include <string>
#include <string_view>

#include "backends/backend.h"

namespace backends {

/// OK if a key whose current version is `current` (nullopt: no value) meets
/// `condition`; else kAlreadyExists / kFailedPrecondition saying
/// "dump_if KEY: precondition failed: ...".
Status CheckWriteCondition(std::string_view key,
                           const WriteCondition& condition,
                           const std::optional<std::string>& current);

}  // namespace backends
