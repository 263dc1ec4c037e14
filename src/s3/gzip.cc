// gzip on libdeflate. libdeflate compresses a whole buffer at once (no
// streaming), which suits S3 objects that are held in memory anyway; its
// gzip header has mtime 0, no name and OS "unknown" (RFC 1952 §2.3), so the
// output depends only on the input and the level.

#include "s3/gzip.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace backends::s3 {
namespace {

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const {
    libdeflate_free_compressor(c);
  }
};
struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const {
    libdeflate_free_decompressor(d);
  }
};

// The ISIZE field of the member that ends at `end`: the uncompressed size
// modulo 2^32 (a hint only; a member may be larger).
std::size_t TrailerSize(std::string_view data) {
  if (data.size() < 18) return 0;
  const auto* p =
      reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  return static_cast<std::size_t>(p[0]) | static_cast<std::size_t>(p[1]) << 8 |
         static_cast<std::size_t>(p[2]) << 16 |
         static_cast<std::size_t>(p[3]) << 24;
}

}  // namespace

Result<std::string> GzipCompress(std::string_view data, int level) {
  std::unique_ptr<libdeflate_compressor, CompressorDeleter> compressor(
      libdeflate_alloc_compressor(level));
  if (!compressor) {
    return InternalError("gzip: cannot allocate a compressor at level " +
                         std::to_string(level));
  }
  std::string out(libdeflate_gzip_compress_bound(compressor.get(), data.size()),
                  '\0');
  std::size_t n = libdeflate_gzip_compress(compressor.get(), data.data(),
                                           data.size(), out.data(), out.size());
  if (n == 0) return InternalError("gzip: compression failed");
  out.resize(n);
  return out;
}

Result<std::string> GzipDecompress(std::string_view data,
                                   std::string_view context) {
  std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> decompressor(
      libdeflate_alloc_decompressor());
  if (!decompressor) {
    return InternalError(std::string(context) +
                         ": cannot allocate a gzip decompressor");
  }
  std::string out;
  // DEFLATE expands at most ~1032:1, so no valid member decodes to more
  // than this: a corrupt ISIZE never makes us allocate gigabytes.
  const std::size_t bound = data.size() * 1032 + 1024;
  std::size_t guess = TrailerSize(data);
  if (guess > bound) guess = data.size() * 4;
  while (!data.empty()) {
    std::string member(std::max<std::size_t>(guess, 64), '\0');
    for (;;) {
      std::size_t in_used = 0;
      std::size_t out_used = 0;
      libdeflate_result r = libdeflate_gzip_decompress_ex(
          decompressor.get(), data.data(), data.size(), member.data(),
          member.size(), &in_used, &out_used);
      if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
        if (member.size() > bound) {
          return DataLossError(std::string(context) +
                               ": stored gzip data is corrupt");
        }
        member.resize(member.size() * 2);
        continue;
      }
      if (r != LIBDEFLATE_SUCCESS) {
        return DataLossError(std::string(context) +
                             ": stored gzip data is corrupt");
      }
      member.resize(out_used);
      if (out.empty()) {
        out = std::move(member);
      } else {
        out += member;
      }
      data.remove_prefix(in_used);
      break;
    }
  }
  return out;
}

}  // namespace backends::s3
