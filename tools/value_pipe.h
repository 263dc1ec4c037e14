#pragma once

// Copies one value from a store to another in bounded memory: the source's
// load_stream runs on a second thread and hands its pieces over a queue of
// at most a few chunks to the destination's dump_stream on the caller's
// thread. A failure on either side ends both: a failed load fails the dump
// (so nothing is stored), a failed dump stops the load.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "backends/backend.h"
#include "backends/status.h"

namespace backends::cli {

/// Returns false if `source` holds no value under `source_key` (nothing is
/// written then). `size` is the value's size when known (S3 uses it to
/// choose multipart). Checks for interrupts between chunks. `on_bytes`,
/// when set, is told the size of each piece the destination takes.
Result<bool> PipeValue(Backend& source, const std::string& source_key,
                       Backend& destination, const std::string& key,
                       std::optional<std::uint64_t> size,
                       const std::string& context,
                       std::function<void(std::size_t)> on_bytes = {});

}  // namespace backends::cli
