// The streaming gzip compressor and decoder (s3/gzip_stream.h): output that
// gzip tools and zlib read as one member, and round trips at chunk edges.

#include "s3/gzip_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <random>
#include <string>

#include "s3/gzip.h"
#include "testutil/status_matchers.h"

namespace backends::s3 {
namespace {

using ::backends::testing::StatusIs;

// JavaScript-like text: compressible, with repeats further apart than
// deflate's 32 KiB window now and then.
std::string ScriptText(std::size_t size, unsigned seed = 1) {
  std::mt19937 random(seed);
  std::string out;
  while (out.size() < size) {
    out += "function f" + std::to_string(random() % 5000) +
           "(a, b) { return a + b * " + std::to_string(random() % 100) +
           "; }\n";
  }
  out.resize(size);
  return out;
}

std::string Noise(std::size_t size) {
  std::mt19937 random(7);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

// Compresses `data` through the streaming compressor, the source handing
// out at most `piece` bytes per read and the output read `read` at a time.
std::string Compress(const std::string& data, std::size_t chunk,
                     std::size_t piece = 1000, std::size_t read = 777) {
  std::size_t at = 0;
  GzipStreamCompressor compressor(
      [&](char* buffer, std::size_t n) -> Result<std::size_t> {
        n = std::min({n, piece, data.size() - at});
        std::memcpy(buffer, data.data() + at, n);
        at += n;
        return n;
      },
      6, chunk);
  std::string out;
  std::string buffer(read, '\0');
  while (true) {
    auto n = compressor.Read(buffer.data(), buffer.size());
    EXPECT_TRUE(n.ok()) << n.status().message();
    if (!n.ok() || *n == 0) break;
    out.append(buffer.data(), *n);
  }
  EXPECT_EQ(compressor.uncompressed_size(), data.size());
  return out;
}

// zlib's inflate of exactly one member: it must end where the bytes end.
std::string InflateOneMember(const std::string& gzip) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(gzip.data()));
  z.avail_in = static_cast<uInt>(gzip.size());
  std::string out;
  char buffer[65536];
  int ret = Z_OK;
  while (ret == Z_OK) {
    z.next_out = reinterpret_cast<unsigned char*>(buffer);
    z.avail_out = sizeof buffer;
    ret = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  EXPECT_EQ(ret, Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the first member";
  inflateEnd(&z);
  return out;
}

std::string Decode(const std::string& gzip, std::size_t piece) {
  GzipStreamDecoder decoder("test");
  std::string out;
  for (std::size_t at = 0; at < gzip.size(); at += piece) {
    BACKENDS_EXPECT_OK(decoder.Write(std::string_view(gzip).substr(at, piece),
                                     [&](std::string_view d) {
                                       EXPECT_LE(d.size(), 64u << 10);
                                       out += d;
                                       return Status::OK();
                                     }));
  }
  BACKENDS_EXPECT_OK(decoder.Finish());
  return out;
}

TEST(GzipStreamTest, OneMemberAtEveryChunkEdge) {
  const std::size_t chunk = 4096;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, chunk - 1, chunk,
                           chunk + 1, 3 * chunk, 10 * chunk + 17}) {
    SCOPED_TRACE(size);
    const std::string data = ScriptText(size, static_cast<unsigned>(size));
    const std::string gzip = Compress(data, chunk);
    EXPECT_TRUE(InflateOneMember(gzip) == data);
    ASSERT_OK_AND_ASSIGN(std::string whole, GzipDecompress(gzip, "test"));
    EXPECT_TRUE(whole == data);
    EXPECT_TRUE(Decode(gzip, 100) == data);
  }
}

TEST(GzipStreamTest, IncompressibleAndMixedChunks) {
  // Stored blocks, and chunks whose last block ends on every bit offset.
  std::string data = Noise(300'000) + ScriptText(500'000) + Noise(70'001);
  for (std::size_t chunk :
       {std::size_t{1000}, std::size_t{65536}, std::size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    const std::string gzip = Compress(data, chunk, 4096, 1 << 16);
    EXPECT_TRUE(InflateOneMember(gzip) == data);
  }
}

TEST(GzipStreamTest, SizeCloseToWholeBufferCompression) {
  const std::string data = ScriptText(8 << 20);
  const std::string streamed = Compress(data, kGzipChunkSize, 1 << 20, 1 << 20);
  ASSERT_OK_AND_ASSIGN(std::string whole, GzipCompress(data));
  EXPECT_LE(static_cast<double>(streamed.size()),
            1.01 * static_cast<double>(whole.size()));
  EXPECT_TRUE(InflateOneMember(streamed) == data);
}

TEST(GzipStreamTest, DecoderReadsConcatenatedMembers) {
  ASSERT_OK_AND_ASSIGN(std::string a, GzipCompress("first "));
  ASSERT_OK_AND_ASSIGN(std::string b, GzipCompress("second"));
  EXPECT_EQ(Decode(a + b, 3), "first second");
}

TEST(GzipStreamTest, DecoderRejectsCorruptAndTruncatedInput) {
  ASSERT_OK_AND_ASSIGN(std::string gzip, GzipCompress(ScriptText(100'000)));
  auto ignore = [](std::string_view) { return Status::OK(); };
  {
    GzipStreamDecoder decoder("load \"k\"");
    BACKENDS_EXPECT_OK(
        decoder.Write(std::string_view(gzip).substr(0, 500), ignore));
    EXPECT_THAT(decoder.Finish(), StatusIs(ErrorCode::kDataLoss));
  }
  {
    GzipStreamDecoder decoder("load \"k\"");
    EXPECT_THAT(decoder.Write("not gzip at all", ignore),
                StatusIs(ErrorCode::kDataLoss));
  }
  {
    std::string bad = gzip;
    bad[bad.size() - 6] ^= 0x55;  // the CRC
    GzipStreamDecoder decoder("load \"k\"");
    EXPECT_THAT(decoder.Write(bad, ignore), StatusIs(ErrorCode::kDataLoss));
  }
}

TEST(GzipStreamTest, SourceErrorStopsTheCompressor) {
  GzipStreamCompressor compressor(
      [](char*, std::size_t) -> Result<std::size_t> {
        return IOError("read failed");
      });
  char buffer[16];
  EXPECT_THAT(compressor.Read(buffer, sizeof buffer),
              StatusIs(ErrorCode::kIOError));
}

}  // namespace
}  // namespace backends::s3
