#include "help.h"

namespace backends::cli {

std::string VerbFooter(const VerbParams& params, std::string_view notes,
                       std::string_view example) {
  std::string out(notes);
  if (!out.empty() && !out.ends_with('\n')) out += '\n';
  out += "URL parameters it honours:\n";
  out += params.file_writes ? "  file://  durable=1 (fsync every write)\n"
                            : "  file://  none\n";
  out += params.file_writes ? "  sqlite:// table=NAME durable=1\n"
                            : "  sqlite:// table=NAME\n";
  if (params.s3_connection) {
    out +=
        "  s3://    region endpoint path_style verify_tls profile anonymous\n"
        "           check_bucket connect_timeout_ms request_timeout_ms\n"
        "           min_transfer_rate max_attempts retry_budget_ms\n";
  }
  if (params.s3_writes) {
    out +=
        "           content_type cache_age public_read gzip_types "
        "(how objects are written)\n";
  }
  if (params.format || params.cache) {
    out += "  any      ";
    if (params.format) out += "format=raw|text|json  ";
    if (params.cache) out += "cache=json|text  timeout=SECONDS";
    out += "\n";
  }
  out += "Example: ";
  out += example;
  return out;
}

}  // namespace backends::cli
