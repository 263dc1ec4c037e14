// Streaming downloads (see s3_stream.h) and the S3Backend streaming calls
// (dump_file, dump_stream, load_to_file, load_stream in backends/s3.h).
//
// One download is a series of GETs over byte ranges. The first GET (no
// If-Match) learns the object's ETag and size; every later GET, resumed or
// parallel, carries If-Match with that ETag, so all bytes come from one
// version of the object.

#include "s3/s3_stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "s3/content_type.h"
#include "s3/credentials.h"
#include "s3/gzip_stream.h"
#include "s3/retry.h"
#include "s3/s3_config.h"
#include "s3/s3_errors.h"
#include "s3/s3_multipart.h"
#include "s3/sigv4.h"

namespace backends::s3 {
namespace {

// SHA-256 of the empty payload of a GET.
constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool Retryable(const Status& status) {
  return status.code() == ErrorCode::kUnavailable ||
         status.code() == ErrorCode::kDeadlineExceeded;
}

std::optional<std::uint64_t> ParseNumber(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return n;
}

// "bytes FIRST-LAST/TOTAL" (TOTAL may be "*").
struct ContentRange {
  std::uint64_t first = 0;
  std::optional<std::uint64_t> total;
};
std::optional<ContentRange> ParseContentRange(std::string_view text) {
  if (!text.starts_with("bytes ")) return std::nullopt;
  text.remove_prefix(6);
  auto dash = text.find('-');
  auto slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos) {
    return std::nullopt;
  }
  ContentRange range;
  auto first = ParseNumber(text.substr(0, dash));
  if (!first) return std::nullopt;
  range.first = *first;
  range.total = ParseNumber(text.substr(slash + 1));
  return range;
}

// The object a download reads, as the first answer described it.
struct Version {
  bool known = false;  // a first answer has been seen
  /// Empty when the server sent none: fine for one GET, but a resumed or
  /// further ranged GET cannot be pinned to the version then.
  std::string etag;
  std::optional<std::uint64_t> size;
  /// Set by the first answer when the object is stored gzipped
  /// (Content-Encoding: gzip): its bytes are to be decoded.
  bool encoded = false;
};

// Fetches bytes [start, end) of the object (end unset: to its end) into
// `sink`, resuming after failures within the retry budget. Unless
// version->known, the first answer fills `version`. Sets *missing for a 404
// NoSuchKey.
class RangeFetch {
 public:
  RangeFetch(S3Client& client, const std::string& key,
             const S3TransferOptions& options, std::string_view context)
      : client_(client), key_(key), options_(options), context_(context) {}

  Status Fetch(std::uint64_t start, std::optional<std::uint64_t> end,
               Version* version, const OffsetSink& sink, bool* missing) {
    std::uint64_t pos = start;
    RetryTimer budget(client_.retry(), client_.min_transfer_rate());
    int failures = 0;
    bool whole = false;  // after a 416 on an empty object: no Range
    Status last;
    while (!end || pos < *end) {
      S3Client::Request request{.method = "GET", .key = key_};
      if (!whole && (pos > 0 || end)) {
        request.headers.emplace_back(
            "Range", "bytes=" + std::to_string(pos) + "-" +
                         (end ? std::to_string(*end - 1) : std::string()));
      }
      if (version->known) {
        request.headers.emplace_back("If-Match", version->etag);
      }
      BodyStreams streams;
      bool local_error = false;
      bool learned = false;
      auto learn = [&](long status, const HttpHeaders& headers) -> Status {
        learned = true;
        Status checked = Learn(status, headers, pos, version, &end);
        if (!checked.ok()) local_error = true;
        return checked;
      };
      streams.on_answer = learn;
      std::uint64_t at = pos;
      streams.sink = [&](std::string_view chunk) {
        Status written = sink(at, chunk);
        if (!written.ok()) local_error = true;
        at += chunk.size();
        return written;
      };
      auto response =
          client_.SendStream(request, kEmptySha256, streams, context_);
      pos += streams.delivered;
      if (streams.delivered > 0) failures = 0;
      if (response.ok()) {
        const long status = response->status;
        if (status == 200 || status == 206) {
          if (!learned) {
            BACKENDS_RETURN_IF_ERROR(
                Learn(status, response->headers, pos, version, &end));
          }
          if (!end) end = pos;  // a whole-object GET that completed
          if (pos >= *end) break;
          last = UnavailableError(context_ + ": s3 GET ended at byte " +
                                  std::to_string(pos) + " of " +
                                  std::to_string(*end));
        } else if (status == 404 && !version->known) {
          auto info = ParseS3Error(status, response->body);
          if (info.code.empty() || info.code == "NoSuchKey") {
            *missing = true;
            return Status::OK();
          }
          return AnswerError(*response, "GET", context_);
        } else if (status == 412) {
          return FailedPreconditionError(
              context_ + ": the object changed during the download (ETag " +
              version->etag + " no longer matches; s3 GET returned 412)");
        } else if (status == 416 && pos == 0 && !version->known && !whole) {
          whole = true;  // an empty object has no byte 0: ask without Range
          continue;
        } else {
          last = AnswerError(*response, "GET", context_);
          if (!Retryable(last)) return last;
        }
      } else {
        last = response.status();
        if (local_error || !Retryable(last)) return last;
      }
      if (++failures > options_.resume_attempts) {
        return Status(last.code(), last.message() + " (gave up at byte " +
                                       std::to_string(pos) + " after " +
                                       std::to_string(failures) +
                                       " attempts without progress)");
      }
      if (!budget.WithinBudget(pos - start)) {
        return Status(last.code(),
                      last.message() + " (gave up at byte " +
                          std::to_string(pos) + " after " +
                          std::to_string(budget.elapsed().count()) +
                          " ms: retry_budget_ms + bytes at min_transfer_rate "
                          "ran out)");
      }
      if (version->known && version->etag.empty()) {
        return Status(last.code(),
                      last.message() + " (cannot resume at byte " +
                          std::to_string(pos) +
                          ": the server's answer carried no ETag, so a "
                          "resumed GET could mix two versions of the object)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50 * failures));
    }
    return Status::OK();
  }

 private:
  // Checks an answer before its first byte is used: it must start at `pos`,
  // and be the version we read. Learns the version from a first answer.
  Status Learn(long status, const HttpHeaders& headers, std::uint64_t pos,
               Version* version, std::optional<std::uint64_t>* end) const {
    std::string etag;
    std::optional<std::uint64_t> total;
    std::uint64_t first = 0;
    for (const auto& [name, value] : headers) {
      if (name == "etag") etag = value;
      if (name == "content-length" && status == 200) {
        total = ParseNumber(value);
      }
      if (name == "content-range" && status == 206) {
        auto range = ParseContentRange(value);
        if (!range) {
          return InternalError(context_ + ": s3 GET answered Content-Range \"" +
                               value + "\" (unreadable)");
        }
        first = range->first;
        total = range->total;
      }
    }
    if (first != pos) {
      return InternalError(context_ + ": s3 GET answered bytes from " +
                           std::to_string(first) + ", asked from " +
                           std::to_string(pos) + " (status " +
                           std::to_string(status) + ")");
    }
    if (!version->known) {
      for (const auto& [name, value] : headers) {
        if (name == "content-encoding" && ContentTypeIn(value, {"gzip"})) {
          version->encoded = true;
        }
      }
      version->known = true;
      version->etag = etag;
      version->size = total;
    } else if (etag != version->etag) {
      return FailedPreconditionError(
          context_ + ": the object changed during the download (ETag " +
          version->etag + " became " + etag + ")");
    }
    if (total && (!version->size || *version->size != *total)) {
      if (version->size) {
        return FailedPreconditionError(
            context_ + ": the object changed during the download (size)");
      }
    }
    if (!*end && version->size) *end = version->size;
    if (*end && version->size && **end > *version->size) *end = version->size;
    return Status::OK();
  }

  S3Client& client_;
  const std::string& key_;
  const S3TransferOptions& options_;
  const std::string context_;
};

// The mode a newly created file gets: 0666 minus the process's umask (read
// from /proc, since umask() cannot be read without changing it).
mode_t NewFileMode() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Umask:")) {
      return static_cast<mode_t>(0666 &
                                 ~std::stoul(line.substr(6), nullptr, 8));
    }
  }
  return 0644;
}

}  // namespace

Status ErrnoError(std::string_view context, std::string_view what, int error) {
  std::string text = std::string(context) + ": " + std::string(what) + ": " +
                     std::strerror(error);
  if (error == ENOENT) return NotFoundError(std::move(text));
  if (error == EACCES || error == EPERM) {
    return PermissionDeniedError(std::move(text));
  }
  return IOError(std::move(text));
}

Result<bool> DownloadToSink(S3Client& client, const std::string& object_key,
                            const ChunkSink& sink,
                            const S3TransferOptions& options,
                            std::string_view context) {
  RangeFetch fetch(client, object_key, options, context);
  Version version;
  GzipStreamDecoder decoder{std::string(context)};
  bool missing = false;
  BACKENDS_RETURN_IF_ERROR(fetch.Fetch(
      0, std::nullopt, &version,
      [&](std::uint64_t, std::string_view chunk) {
        if (version.encoded) return decoder.Write(chunk, sink);
        return sink(chunk).WithContext(context);
      },
      &missing));
  if (missing) return false;
  if (version.encoded) BACKENDS_RETURN_IF_ERROR(decoder.Finish());
  return true;
}

Result<bool> DownloadToFile(S3Client& client, const std::string& object_key,
                            const std::string& path,
                            const S3TransferOptions& options,
                            std::string_view context) {
  const std::string where(context);
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  std::string temp = dir + "." +
                     path.substr(slash == std::string::npos ? 0 : slash + 1) +
                     ".s3part-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(where, "create a file next to " + path, errno);
  bool keep = false;
  struct Cleanup {
    int fd;
    const std::string& temp;
    const bool& keep;
    ~Cleanup() {
      if (fd >= 0) ::close(fd);
      if (!keep) ::unlink(temp.c_str());
    }
  } cleanup{fd, temp, keep};

  OffsetSink write = [fd, &where](std::uint64_t offset,
                                  std::string_view chunk) -> Status {
    while (!chunk.empty()) {
      ssize_t n =
          ::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(where, "write the temporary file", errno);
      }
      chunk.remove_prefix(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
    return Status::OK();
  };

  RangeFetch fetch(client, object_key, options, where);
  const std::uint64_t part =
      std::max<std::uint64_t>(options.download_part_size, 1 << 20);
  Version version;
  // A gzip-encoded object is decoded in order as it arrives, so its ranges
  // are fetched one after the other.
  GzipStreamDecoder decoder(where);
  std::uint64_t decoded = 0;
  OffsetSink write_decoded = [&](std::uint64_t offset,
                                 std::string_view chunk) -> Status {
    if (!version.encoded) return write(offset, chunk);
    return decoder.Write(chunk, [&](std::string_view bytes) {
      Status written = write(decoded, bytes);
      decoded += bytes.size();
      return written;
    });
  };
  bool missing = false;
  BACKENDS_RETURN_IF_ERROR(
      fetch.Fetch(0, part, &version, write_decoded, &missing));
  if (missing) return false;
  const std::uint64_t size = version.size.value_or(0);
  if (size > part && version.etag.empty()) {
    return FailedPreconditionError(
        where +
        ": the server sent no ETag, so the ranged GETs of an object "
        "larger than download_part_size (" +
        std::to_string(part) +
        " bytes) cannot be pinned to one version; nothing was written");
  }
  if (version.encoded) {
    bool gone = false;
    if (size > part) {
      BACKENDS_RETURN_IF_ERROR(
          fetch.Fetch(part, size, &version, write_decoded, &gone));
    }
    if (gone) {
      return FailedPreconditionError(
          where + ": the object was removed during the download");
    }
    BACKENDS_RETURN_IF_ERROR(decoder.Finish());
  }
  if (!version.encoded && size > part) {
    std::atomic<std::uint64_t> next{part};
    std::mutex mutex;
    Status first_error;
    std::atomic<bool> failed{false};
    auto work = [&] {
      while (!failed) {
        const std::uint64_t start = next.fetch_add(part);
        if (start >= size) return;
        Version pinned = version;
        bool gone = false;
        Status status = fetch.Fetch(start, std::min(size, start + part),
                                    &pinned, write, &gone);
        if (status.ok() && gone) {
          status = FailedPreconditionError(
              where + ": the object was removed during the download");
        }
        if (!status.ok()) {
          std::scoped_lock lock(mutex);
          if (first_error.ok()) first_error = std::move(status);
          failed = true;
          return;
        }
      }
    };
    std::vector<std::thread> threads;
    const std::size_t workers =
        std::max<std::size_t>(1, options.parallel_parts);
    for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
    work();
    for (auto& thread : threads) thread.join();
    BACKENDS_RETURN_IF_ERROR(first_error);
  }
  struct stat existing;
  const mode_t mode = ::stat(path.c_str(), &existing) == 0
                          ? (existing.st_mode & 07777)
                          : NewFileMode();
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    return ErrnoError(where, "finish the temporary file", errno);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return ErrnoError(where, "rename the temporary file to " + path, errno);
  }
  keep = true;
  return true;
}

}  // namespace backends::s3

namespace backends {
namespace {

constexpr std::size_t kMaxObjectKeyBytes = 1024;

std::string Context(std::string_view operation, std::string_view key) {
  return std::string(operation) + " " + QuoteKey(key);
}

Status CheckKey(const S3Options& options, std::string_view operation,
                std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, key));
  if (options.prefix.size() + key.size() > kMaxObjectKeyBytes) {
    return InvalidArgumentError(
        Context(operation, key) +
        ": prefix + key is longer than S3's 1024 bytes");
  }
  return Status::OK();
}

// A client of our own, for stores that do not lend theirs (see
// S3Backend::stream_client): same endpoint, region and transport settings,
// credentials from the standard chain.
Result<std::unique_ptr<s3::S3Client>> OwnClient(const S3Options& options) {
  BACKENDS_ASSIGN_OR_RETURN(auto config,
                            s3::ResolveS3Config(options, s3::Environment()));
  s3::CredentialsOptions credentials;
  credentials.profile = config.profile;
  credentials.anonymous = options.anonymous;
  credentials.clock = options.clock;
  BACKENDS_ASSIGN_OR_RETURN(auto provider,
                            s3::MakeCredentialsProvider(credentials));
  s3::S3Endpoint endpoint{.scheme = config.scheme,
                          .authority = config.authority,
                          .bucket = options.bucket,
                          .region = config.region,
                          .path_style = config.path_style,
                          .aws = config.endpoint_is_default};
  s3::TransportOptions transport{.verify_tls = options.verify_tls,
                                 .ca_bundle = config.ca_bundle,
                                 .connect_timeout = options.connect_timeout,
                                 .request_timeout = options.request_timeout,
                                 .min_transfer_rate = options.min_transfer_rate,
                                 .stall_timeout = options.stall_timeout};
  std::shared_ptr<s3::CredentialsProvider> shared = std::move(provider);
  return std::make_unique<s3::S3Client>(
      std::move(endpoint), [shared] { return shared->GetCredentials(); },
      s3::NewCurlTransport(std::move(transport)),
      options.clock ? options.clock : DefaultClock(), options.retry,
      options.min_transfer_rate);
}

// The store's client, or one of our own kept in `owned`.
Result<s3::S3Client*> ClientOf(s3::S3Client* lent, const S3Options& options,
                               std::unique_ptr<s3::S3Client>& owned,
                               std::string_view context) {
  if (lent != nullptr) return lent;
  auto client = OwnClient(options);
  if (!client.ok()) return client.status().WithContext(context);
  owned = std::move(client).value();
  return owned.get();
}

constexpr char kSizeHeader[] = "x-amz-meta-uncompressed-size";

// Uploads what `read` yields gzipped, as dump() stores a gzip type, without
// holding it: the compressor keeps two chunks, the upload its parts. The
// uncompressed size goes with the headers when `size` promises it, and is
// recorded from the bytes actually read in any case (UploadSource::
// trailing_headers).
Status UploadGzipped(s3::S3Client& client, const std::string& object_key,
                     s3::HttpHeaders headers,
                     s3::GzipStreamCompressor::Reader read,
                     std::optional<std::uint64_t> size,
                     const S3TransferOptions& transfer,
                     const std::string& context) {
  s3::GzipStreamCompressor gzip(std::move(read));
  headers.emplace_back("Content-Encoding", "gzip");
  if (size) headers.emplace_back(kSizeHeader, std::to_string(*size));
  s3::UploadSource upload;
  upload.read = [&gzip](char* buffer, std::size_t n) {
    return gzip.Read(buffer, n);
  };
  upload.trailing_headers = [&gzip] {
    return s3::HttpHeaders{
        {kSizeHeader, std::to_string(gzip.uncompressed_size())}};
  };
  return s3::UploadObject(client, object_key, headers, upload, transfer,
                          context);
}

}  // namespace

Status S3Backend::dump_file(std::string_view key, const std::string& path,
                            const S3PutOptions& put) {
  const S3Options& opts = options();
  BACKENDS_RETURN_IF_ERROR(CheckKey(opts, "dump_file", key));
  const std::string context = Context("dump_file", key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s3::ErrnoError(context, "open " + path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    return s3::ErrnoError(context, "stat " + path, errno);
  }
  if (!S_ISREG(info.st_mode)) {
    return InvalidArgumentError(context + ": " + path +
                                " is not a regular file");
  }
  s3::UploadSource source;
  source.size = static_cast<std::uint64_t>(info.st_size);
  source.read_at = [fd, &context, &path](std::uint64_t offset, char* buffer,
                                         std::size_t n) -> Result<std::size_t> {
    while (true) {
      ssize_t got = ::pread(fd, buffer, n, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return s3::ErrnoError(context, "read " + path, errno);
    }
  };
  std::unique_ptr<s3::S3Client> owned;
  BACKENDS_ASSIGN_OR_RETURN(s3::S3Client * client,
                            ClientOf(stream_client(), opts, owned, context));
  s3::PutPlan plan = s3::PlanPut(opts, key, put);
  if (!plan.gzip) {
    return s3::UploadObject(*client, opts.prefix + std::string(key),
                            plan.headers, source, opts.transfer, context);
  }
  // The file's size as stat() saw it is what is stored; a file that
  // shrinks meanwhile fails as the uncompressed upload does.
  std::uint64_t offset = 0;
  auto read = [&](char* buffer, std::size_t n) -> Result<std::size_t> {
    n = static_cast<std::size_t>(
        std::min<std::uint64_t>(n, source.size - offset));
    if (n == 0) return std::size_t{0};
    BACKENDS_ASSIGN_OR_RETURN(std::size_t got,
                              source.read_at(offset, buffer, n));
    if (got == 0) {
      return DataLossError(context + ": " + path + " ended at byte " +
                           std::to_string(offset) + ", expected " +
                           std::to_string(source.size));
    }
    offset += got;
    return got;
  };
  return UploadGzipped(*client, opts.prefix + std::string(key),
                       std::move(plan.headers), read, source.size,
                       opts.transfer, context);
}

Status S3Backend::dump_stream(std::string_view key, ByteSource& source) {
  return dump_stream(key, source, S3PutOptions{});
}

Status S3Backend::dump_stream(std::string_view key, ByteSource& source,
                              const S3PutOptions& put) {
  const S3Options& opts = options();
  BACKENDS_RETURN_IF_ERROR(CheckKey(opts, "dump_stream", key));
  const std::string context = Context("dump_stream", key);
  s3::UploadSource upload;
  upload.read = [&source](char* buffer, std::size_t n) {
    return source.Read(std::span<char>(buffer, n));
  };
  upload.size_hint = source.size();
  std::unique_ptr<s3::S3Client> owned;
  BACKENDS_ASSIGN_OR_RETURN(s3::S3Client * client,
                            ClientOf(stream_client(), opts, owned, context));
  s3::PutPlan plan = s3::PlanPut(opts, key, put);
  if (!plan.gzip) {
    return s3::UploadObject(*client, opts.prefix + std::string(key),
                            plan.headers, upload, opts.transfer, context);
  }
  return UploadGzipped(*client, opts.prefix + std::string(key),
                       std::move(plan.headers), upload.read, source.size(),
                       opts.transfer, context);
}

Result<bool> S3Backend::load_to_file(std::string_view key,
                                     const std::string& path) {
  const S3Options& opts = options();
  BACKENDS_RETURN_IF_ERROR(CheckKey(opts, "load_to_file", key));
  const std::string context = Context("load_to_file", key);
  std::unique_ptr<s3::S3Client> owned;
  BACKENDS_ASSIGN_OR_RETURN(s3::S3Client * client,
                            ClientOf(stream_client(), opts, owned, context));
  return s3::DownloadToFile(*client, opts.prefix + std::string(key), path,
                            opts.transfer, context);
}

Result<bool> S3Backend::load_stream(std::string_view key, ByteSink& sink) {
  const S3Options& opts = options();
  BACKENDS_RETURN_IF_ERROR(CheckKey(opts, "load_stream", key));
  const std::string context = Context("load_stream", key);
  std::unique_ptr<s3::S3Client> owned;
  BACKENDS_ASSIGN_OR_RETURN(s3::S3Client * client,
                            ClientOf(stream_client(), opts, owned, context));
  return s3::DownloadToSink(
      *client, opts.prefix + std::string(key),
      [&sink](std::string_view chunk) { return sink.Write(chunk); },
      opts.transfer, context);
}

}  // namespace backends
