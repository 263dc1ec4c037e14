#pragma once

// gzip of streams in bounded memory: a compressor that reads its input in
// chunks and yields one gzip member (RFC 1952), and a decoder that takes
// gzip bytes as they arrive and hands on the decoded bytes.
//
// Thread safety: an object is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends::s3 {

/// Input bytes are compressed in chunks of this size (see gzip_stream.cc).
inline constexpr std::size_t kGzipChunkSize = 1 << 20;

/// Turns a byte stream into one gzip member, read piecewise. Memory: about
/// two chunks, whatever the stream's length.
class GzipStreamCompressor {
 public:
  /// Fills up to `n` bytes of `buffer`; returns how many, 0 at the end.
  using Reader =
      std::function<Result<std::size_t>(char* buffer, std::size_t n)>;

  /// Compresses what `source` yields at `level` (1-12, as GzipCompress).
  explicit GzipStreamCompressor(Reader source, int level = 6,
                                std::size_t chunk_size = kGzipChunkSize);
  ~GzipStreamCompressor();
  GzipStreamCompressor(const GzipStreamCompressor&) = delete;
  GzipStreamCompressor& operator=(const GzipStreamCompressor&) = delete;

  /// Fills up to `n` bytes of gzip output; returns how many, 0 once the
  /// whole member (header to trailer) has been read. Errors: the source's,
  /// or kInternal if compression fails.
  Result<std::size_t> Read(char* buffer, std::size_t n);

  /// Bytes taken from the source so far (all of them once Read returned 0).
  std::uint64_t uncompressed_size() const { return uncompressed_; }

 private:
  Status Refill();

  struct Codec;
  Reader source_;
  std::unique_ptr<Codec> codec_;
  std::string input_;
  std::string pending_;  // output not yet read
  std::size_t pending_at_ = 0;
  std::uint64_t uncompressed_ = 0;
  std::uint32_t crc_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

/// Decodes gzip (one or more members) as it arrives.
class GzipStreamDecoder {
 public:
  using Sink = std::function<Status(std::string_view decoded)>;

  /// `context` names the operation and key in errors.
  explicit GzipStreamDecoder(std::string context);
  ~GzipStreamDecoder();
  GzipStreamDecoder(const GzipStreamDecoder&) = delete;
  GzipStreamDecoder& operator=(const GzipStreamDecoder&) = delete;

  /// Decodes `encoded`, handing the output to `sink` in pieces of at most
  /// 64 KiB. Errors: kDataLoss if the bytes are not gzip; the sink's error.
  Status Write(std::string_view encoded, const Sink& sink);
  /// Checks that the input ended at the end of a member. Errors: kDataLoss
  /// if it was cut short.
  Status Finish();

 private:
  struct Stream;
  std::string context_;
  std::unique_ptr<Stream> stream_;
};

}  // namespace backends::s3
