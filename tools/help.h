#pragma once

// The part of each verb's --help that says which URL parameters it reads
// (per scheme) and shows one example, so a user need not guess whether,
// say, `durable=1` or `content_type=` matters to the verb at hand.

#include <string>
#include <string_view>

namespace backends::cli {

/// The URL parameters a verb reads.
struct VerbParams {
  bool file_writes = false;   // file://: durable
  bool s3_connection = true;  // s3://: region, endpoint, ... (every verb)
  bool s3_writes = false;     // s3://: content_type, cache_age, ...
  bool format = false;        // format=raw|text|json
  bool cache = false;         // cache=json|text, timeout=N
};

/// "URL parameters it honours:" by scheme, then "Example: EXAMPLE" (and
/// `notes` first, if any), for CLI::App::footer.
std::string VerbFooter(const VerbParams& params, std::string_view notes,
                       std::string_view example);

}  // namespace backends::cli
