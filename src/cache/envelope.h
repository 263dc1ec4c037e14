#pragma once

#include <string>
#include <string_view>

#include "backends/json.h"
#include "cache/expiry_time.h"

namespace backends::cache_internal {

/// The envelope text around `content_text` (the value already written in
/// `format`): byte-identical to DumpJson of
/// {"content": value, "expiration": FormatStamp(expiration)} in `format`.
std::string WrapEnvelope(std::string_view content_text, SysSeconds expiration,
                         const JsonFormat& format);

}  // namespace backends::cache_internal
