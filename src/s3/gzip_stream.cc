// Streaming gzip (see gzip_stream.h).
//
// Compression is pigz's design on libdeflate: zlib's streaming deflate would
// bound memory too, but libdeflate is ~2.4x faster at the same level and has
// no streaming API. So each chunk of input is compressed on its own into raw
// deflate, and the pieces are joined into one deflate stream under one gzip
// header and trailer (RFC 1952), the CRC-32 carried across chunks. A piece
// ends with a final block (BFINAL set), which would end the stream: its
// position is found by running zlib's inflate over the piece with Z_BLOCK
// (as zlib's examples/gzjoin.c does), the bit is cleared, and an empty
// stored block (a sync flush: 00 00 FF FF) realigns the stream to a byte so
// the next piece can follow as it is. The member ends with an empty final
// fixed block (03 00). The check costs an inflate (several times faster than
// deflate); a chunk loses only its first 32 KiB of history to the split.
// RFC 1951 §3.2.3-3.2.4: https://www.rfc-editor.org/rfc/rfc1951

#include "s3/gzip_stream.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace backends::s3 {
namespace {

// mtime 0, no name, OS unknown: as GzipCompress (gzip.cc) writes it.
constexpr unsigned char kGzipHeader[10] = {0x1f, 0x8b, 8, 0, 0,
                                           0,    0,    0, 0, 0xff};
constexpr std::size_t kScratch = 64 << 10;

void AppendLittleEndian32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

}  // namespace

struct GzipStreamCompressor::Codec {
  libdeflate_compressor* compressor = nullptr;
  z_stream inflater{};
  bool inflater_ready = false;
  std::string scratch = std::string(kScratch, '\0');

  ~Codec() {
    if (compressor != nullptr) libdeflate_free_compressor(compressor);
    if (inflater_ready) inflateEnd(&inflater);
  }

  // Makes the raw deflate stream in out[at, at + size) non-final and byte
  // aligned; returns its new length (up to 5 bytes longer).
  Result<std::size_t> Unfinal(std::string& out, std::size_t at,
                              std::size_t size) {
    if (inflateReset(&inflater) != Z_OK) {
      return InternalError("gzip: cannot reset the block scanner");
    }
    auto* data = reinterpret_cast<unsigned char*>(out.data() + at);
    inflater.next_in = data;
    inflater.avail_in = static_cast<uInt>(size);
    std::size_t header_byte = 0;  // where the current block's header starts
    unsigned header_bit = 1;
    // With Z_BLOCK, inflate stops at each block boundary (data_type & 128),
    // with data_type & 7 unused bits in the last byte taken and data_type &
    // 64 once the final block has been read.
    while (true) {
      inflater.next_out = reinterpret_cast<unsigned char*>(scratch.data());
      inflater.avail_out = static_cast<uInt>(scratch.size());
      const int ret = inflate(&inflater, Z_BLOCK);
      if (ret != Z_OK) {
        return InternalError("gzip: a compressed chunk does not decode");
      }
      if ((inflater.data_type & 128) == 0) continue;
      if ((inflater.data_type & 64) != 0) break;
      const int unused = inflater.data_type & 7;
      const auto used = static_cast<std::size_t>(inflater.next_in - data);
      header_byte = unused == 0 ? used : used - 1;
      header_bit = unused == 0 ? 1u : 0x100u >> unused;
    }
    data[header_byte] =
        static_cast<unsigned char>(data[header_byte] & ~header_bit);
    const int unused = inflater.data_type & 7;
    std::size_t length = static_cast<std::size_t>(inflater.next_in - data);
    if (unused == 0) return length;
    data[length - 1] &= static_cast<unsigned char>(0xff >> unused);
    // An empty stored block: 3 header bits of zero, then to a byte boundary.
    if (unused < 3) out[at + length++] = '\0';
    std::memcpy(out.data() + at + length, "\0\0\xff\xff", 4);
    return length + 4;
  }
};

GzipStreamCompressor::GzipStreamCompressor(Reader source, int level,
                                           std::size_t chunk_size)
    : source_(std::move(source)), codec_(std::make_unique<Codec>()) {
  codec_->compressor = libdeflate_alloc_compressor(level);
  codec_->inflater_ready = inflateInit2(&codec_->inflater, -15) == Z_OK;
  input_.resize(std::max<std::size_t>(chunk_size, 1));
}

GzipStreamCompressor::~GzipStreamCompressor() = default;

Status GzipStreamCompressor::Refill() {
  if (codec_->compressor == nullptr || !codec_->inflater_ready) {
    return InternalError("gzip: cannot allocate a streaming compressor");
  }
  pending_.clear();
  pending_at_ = 0;
  if (!started_) {
    pending_.assign(reinterpret_cast<const char*>(kGzipHeader),
                    sizeof kGzipHeader);
    started_ = true;
  }
  std::size_t filled = 0;
  bool end = false;
  while (filled < input_.size()) {
    BACKENDS_ASSIGN_OR_RETURN(
        std::size_t n, source_(input_.data() + filled, input_.size() - filled));
    if (n == 0) {
      end = true;
      break;
    }
    filled += n;
  }
  if (filled > 0) {
    crc_ = static_cast<std::uint32_t>(
        libdeflate_crc32(crc_, input_.data(), filled));
    uncompressed_ += filled;
    const std::size_t at = pending_.size();
    pending_.resize(
        at + libdeflate_deflate_compress_bound(codec_->compressor, filled) + 5);
    const std::size_t size = libdeflate_deflate_compress(
        codec_->compressor, input_.data(), filled, pending_.data() + at,
        pending_.size() - at - 5);
    if (size == 0) return InternalError("gzip: compression failed");
    BACKENDS_ASSIGN_OR_RETURN(std::size_t length,
                              codec_->Unfinal(pending_, at, size));
    pending_.resize(at + length);
  }
  if (end) {
    pending_.append("\x03\x00", 2);
    AppendLittleEndian32(pending_, crc_);
    AppendLittleEndian32(pending_, static_cast<std::uint32_t>(uncompressed_));
    finished_ = true;
  }
  return Status::OK();
}

Result<std::size_t> GzipStreamCompressor::Read(char* buffer, std::size_t n) {
  while (pending_at_ == pending_.size()) {
    if (finished_) return 0;
    BACKENDS_RETURN_IF_ERROR(Refill());
  }
  n = std::min(n, pending_.size() - pending_at_);
  std::memcpy(buffer, pending_.data() + pending_at_, n);
  pending_at_ += n;
  return n;
}

struct GzipStreamDecoder::Stream {
  z_stream z{};
  bool ready = false;
  bool started = false;     // some input has arrived
  bool member_end = false;  // the input so far ends at a member's end
  std::string out = std::string(kScratch, '\0');
  ~Stream() {
    if (ready) inflateEnd(&z);
  }
};

GzipStreamDecoder::GzipStreamDecoder(std::string context)
    : context_(std::move(context)), stream_(std::make_unique<Stream>()) {
  stream_->ready = inflateInit2(&stream_->z, 15 + 16) == Z_OK;
}

GzipStreamDecoder::~GzipStreamDecoder() = default;

Status GzipStreamDecoder::Write(std::string_view encoded, const Sink& sink) {
  Stream& s = *stream_;
  if (!s.ready)
    return InternalError(context_ + ": cannot allocate a gzip decoder");
  while (!encoded.empty()) {
    if (s.member_end) {  // another member follows
      inflateReset(&s.z);
      s.member_end = false;
    }
    s.started = true;
    const std::size_t piece =
        std::min<std::size_t>(encoded.size(), std::size_t{1} << 30);
    s.z.next_in =
        reinterpret_cast<unsigned char*>(const_cast<char*>(encoded.data()));
    s.z.avail_in = static_cast<uInt>(piece);
    int ret = Z_OK;
    do {
      s.z.next_out = reinterpret_cast<unsigned char*>(s.out.data());
      s.z.avail_out = static_cast<uInt>(s.out.size());
      ret = inflate(&s.z, Z_NO_FLUSH);
      if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
        return DataLossError(context_ + ": stored gzip data is corrupt");
      }
      const std::size_t produced = s.out.size() - s.z.avail_out;
      if (produced > 0) {
        BACKENDS_RETURN_IF_ERROR(
            sink(std::string_view(s.out.data(), produced)));
      }
    } while (ret == Z_OK && (s.z.avail_in > 0 || s.z.avail_out == 0));
    if (ret == Z_BUF_ERROR && s.z.avail_in > 0) {
      return DataLossError(context_ + ": stored gzip data is corrupt");
    }
    if (ret == Z_STREAM_END) s.member_end = true;
    encoded.remove_prefix(piece - s.z.avail_in);
  }
  return Status::OK();
}

Status GzipStreamDecoder::Finish() {
  if (stream_->started && !stream_->member_end) {
    return DataLossError(context_ +
                         ": stored gzip data is corrupt (it ends mid-stream)");
  }
  return Status::OK();
}

}  // namespace backends::s3
