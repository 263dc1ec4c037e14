// Multipart uploads (see s3_multipart.h).
//
// Memory: a file's parts are never loaded: each part is read twice through
// read_at, once in 1 MiB chunks to compute the SHA-256 that signs it, then
// again by curl while it sends (the page cache makes the second read
// cheap). A stream's parts must be buffered (a stream cannot be read
// twice): parallel_parts buffers of one part each.
//
// Failure: the first error stops the workers from starting new parts; when
// they have finished, the upload is aborted (DELETE ?uploadId), so S3 keeps
// no orphaned parts. CompleteMultipartUpload may answer 200 with an <Error>
// document (the failure is found while the answer streams): that is an
// error too. Some servers (radosgw) answer an empty <ETag>; then a HEAD
// checks that the object has the expected size.
//
// Retries: a streamed body (a part, a file's single PUT) is resent from its
// start, under the same S3RetryOptions that S3Client::Send applies to
// in-memory bodies.
//
// Trailing headers (a gzip stream's uncompressed size) go with a single PUT.
// CreateMultipartUpload takes an object's metadata before any byte is read,
// so after CompleteMultipartUpload the object is copied onto itself with
// the full header set and x-amz-metadata-directive REPLACE: S3 rewrites the
// metadata in place (same bytes) and the object's content type, encoding,
// cache control and ACL must be restated, as a REPLACE drops what it is
// not given.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html

#include "s3/s3_multipart.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "s3/retry.h"
#include "s3/s3_errors.h"
#include "s3/sigv4.h"
#include "s3/xml_answer.h"

namespace backends::s3 {
namespace {

constexpr std::size_t kHashChunk = 1 << 20;
// CopyObject's limit; a larger object cannot be copied onto itself.
constexpr std::uint64_t kMaxCopySize = 5ull << 30;
// For streams of unknown size: the part size doubles every this many parts.
constexpr std::uint64_t kPartsPerSizeStep = 1000;

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string Hex(const unsigned char* data, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// Sends a request whose body streams from `streams.source`, retried as
// S3Client::Send retries in-memory bodies, unless the source itself failed
// (`source_failed`). Returns the last answer, or the failure; a retryable
// answer that used up the attempts is an error saying how many were made.
Result<HttpResponse> SendStreamRetried(
    S3Client& client, const S3Client::Request& request,
    const std::string& sha256, BodyStreams& streams, std::string_view method,
    std::string_view context, const bool& source_failed) {
  RetryTimer timer(client.retry(), client.min_transfer_rate());
  while (true) {
    auto response = client.SendStream(request, sha256, streams, context);
    const bool retryable =
        response.ok() ? IsRetryableAnswer(response->status, response->body)
                      : IsRetryableFailure(response.status());
    if (!retryable || source_failed) return response;
    if (!timer.WaitBeforeRetry(streams.upload_size)) {
      if (response.ok()) {
        return UnavailableError(
            AnswerError(*response, method, context).message() +
            timer.Summary());
      }
      return Status(response.status().code(),
                    response.status().message() + timer.Summary());
    }
  }
}

// `base` with the headers of `over` added, replacing any of the same name.
HttpHeaders Overridden(HttpHeaders base, const HttpHeaders& over) {
  for (const auto& header : over) {
    std::erase_if(base, [&](const auto& h) { return h.first == header.first; });
    base.push_back(header);
  }
  return base;
}

// Whether every header of `trailing` is in `sent` with the same value.
bool AlreadySent(const HttpHeaders& trailing, const HttpHeaders& sent) {
  return std::all_of(trailing.begin(), trailing.end(), [&](const auto& h) {
    return std::find(sent.begin(), sent.end(), h) != sent.end();
  });
}

// One part's bytes: at `offset` in the source, or in `buffer`.
struct Part {
  std::uint64_t number = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string buffer{};
  bool buffered = false;
};

class MultipartUpload {
 public:
  MultipartUpload(S3Client& client, const std::string& key,
                  const UploadSource& source, const S3TransferOptions& options,
                  std::string_view context)
      : client_(client),
        key_(key),
        source_(source),
        options_(options),
        context_(context) {}

  Status Run(const HttpHeaders& headers, std::string prefix) {
    prefix_ = std::move(prefix);
    BACKENDS_RETURN_IF_ERROR(Create(headers));
    if (source_.read_at) {
      part_size_ = PartSizeFor(source_.size, options_.part_size);
    } else if (source_.size_hint) {
      part_size_ = PartSizeFor(*source_.size_hint, options_.part_size);
    } else {
      part_size_ = std::max(options_.part_size, kMinPartSize);
    }
    const std::size_t workers =
        std::max<std::size_t>(1, options_.parallel_parts);
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers; ++i) {
      threads.emplace_back([this] { Work(); });
    }
    Work();
    for (auto& thread : threads) thread.join();
    Status status = first_error_;
    if (status.ok()) status = Complete();
    if (!status.ok()) return Abort(std::move(status));
    if (source_.trailing_headers) {
      HttpHeaders trailing = source_.trailing_headers();
      if (!AlreadySent(trailing, headers) && next_offset_ <= kMaxCopySize) {
        return ReplaceHeaders(Overridden(headers, trailing));
      }
    }
    return Status::OK();
  }

 private:
  Status Create(const HttpHeaders& headers) {
    BACKENDS_ASSIGN_OR_RETURN(
        upload_id_, CreateMultipartUpload(client_, key_, headers, context_));
    return Status::OK();
  }

  // Claims the next part; for streams, reads its bytes (under the lock).
  // Returns false when there is nothing left (or a failure stopped us).
  Result<bool> NextPart(Part& part) {
    std::scoped_lock lock(mutex_);
    if (!first_error_.ok() || done_) return false;
    part.number = etags_.size() + 1;
    part.offset = next_offset_;
    if (part.number > kMaxParts) {
      return InvalidArgumentError(context_ + ": more than 10000 parts of " +
                                  std::to_string(part_size_) + " bytes");
    }
    if (source_.read_at) {
      if (next_offset_ >= source_.size && part.number > 1) return false;
      part.size = std::min(part_size_, source_.size - next_offset_);
    } else {
      const std::uint64_t step = (part.number - 1) / kPartsPerSizeStep;
      const std::uint64_t size = std::min(
          kMaxPartSize, part_size_ << std::min<std::uint64_t>(step, 10));
      part.buffered = true;
      part.buffer.resize(size);
      std::uint64_t filled = 0;
      if (!prefix_.empty()) {
        filled = std::min<std::uint64_t>(prefix_.size(), size);
        std::memcpy(part.buffer.data(), prefix_.data(), filled);
        prefix_.erase(0, filled);
        if (prefix_.empty()) std::string().swap(prefix_);
      }
      while (filled < size) {
        auto n = source_.read(part.buffer.data() + filled, size - filled);
        if (!n.ok()) return n.status().WithContext(context_);
        if (*n == 0) {
          done_ = true;
          break;
        }
        filled += *n;
      }
      part.buffer.resize(filled);
      part.size = filled;
      if (filled == 0 && part.number > 1) return false;
    }
    next_offset_ += part.size;
    etags_.emplace_back();
    return true;
  }

  void Work() {
    Part part;
    while (true) {
      auto more = NextPart(part);
      Status status = more.status();
      if (status.ok() && !*more) return;
      if (status.ok()) status = SendPart(part);
      if (!status.ok()) {
        std::scoped_lock lock(mutex_);
        if (first_error_.ok()) first_error_ = std::move(status);
        return;
      }
    }
  }

  Status SendPart(const Part& part) {
    const std::string context =
        context_ + " (part " + std::to_string(part.number) + ")";
    BodyStreams streams;
    streams.upload_size = part.size;
    bool source_failed = false;
    if (part.buffered) {
      streams.source = [&part](std::uint64_t at, char* out,
                               std::size_t n) -> Result<std::size_t> {
        n = std::min<std::size_t>(n, part.buffer.size() - at);
        std::memcpy(out, part.buffer.data() + at, n);
        return n;
      };
    } else {
      streams.source = [&](std::uint64_t at, char* out,
                           std::size_t n) -> Result<std::size_t> {
        auto got = source_.read_at(part.offset + at, out, n);
        if (!got.ok()) source_failed = true;
        return got;
      };
    }
    std::string sha256;
    if (part.buffered) {
      sha256 = Sha256Hex(part.buffer);
    } else {
      BACKENDS_ASSIGN_OR_RETURN(
          sha256, Sha256OfRange(source_.read_at, part.offset, part.size));
    }
    S3Client::Request request{.method = "PUT", .key = key_};
    request.query = {{"partNumber", std::to_string(part.number)},
                     {"uploadId", upload_id_}};
    BACKENDS_ASSIGN_OR_RETURN(
        HttpResponse response,
        SendStreamRetried(client_, request, sha256, streams, "PUT part",
                          context, source_failed));
    if (response.status != 200) {
      return AnswerError(response, "PUT part", context);
    }
    const std::string* etag = response.header("etag");
    if (etag == nullptr || etag->empty()) {
      return InternalError(context +
                           ": s3 PUT part returned 200 without an ETag");
    }
    std::scoped_lock lock(mutex_);
    etags_[part.number - 1] = *etag;
    return Status::OK();
  }

  // Rewrites the completed object's headers: a copy onto itself.
  Status ReplaceHeaders(const HttpHeaders& headers) {
    S3Client::Request request{.method = "PUT", .key = key_};
    request.headers = headers;
    std::string source = "/";  // appended, not +: g++ 12 -O3 -Wrestrict
    source += client_.endpoint().bucket;
    source += '/';
    source += key_;
    request.headers.emplace_back("x-amz-copy-source", UriEncode(source, true));
    request.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
    request.expected_bytes = next_offset_;  // the server copies them
    // Like Complete, a copy may fail inside a 200 answer.
    return SendForXml(client_, request, "PUT copy (metadata)", context_)
        .status();
  }

  Status Complete() {
    return CompleteMultipartUpload(client_, key_, upload_id_, etags_,
                                   next_offset_, context_);
  }

  Status Abort(Status cause) {
    return AbortMultipartUpload(client_, key_, upload_id_, std::move(cause),
                                context_);
  }

  S3Client& client_;
  const std::string key_;
  const UploadSource& source_;
  const S3TransferOptions options_;
  const std::string context_;
  std::string upload_id_;
  std::uint64_t part_size_ = 0;

  std::mutex mutex_;
  // Guarded by mutex_.
  std::string prefix_;  // stream bytes read before the decision to go multipart
  std::uint64_t next_offset_ = 0;
  std::vector<std::string> etags_;  // by part number - 1
  bool done_ = false;
  Status first_error_;
};

}  // namespace

Result<std::string> CreateMultipartUpload(S3Client& client,
                                          const std::string& object_key,
                                          const HttpHeaders& headers,
                                          const std::string& context) {
  S3Client::Request request{.method = "POST", .key = object_key};
  request.query = {{"uploads", ""}};
  request.headers = headers;
  BACKENDS_ASSIGN_OR_RETURN(
      XmlAnswer answer, SendForXml(client, request, "POST ?uploads", context));
  std::string upload_id =
      answer.Holder("UploadId").child("UploadId").text().get();
  if (upload_id.empty()) {
    return InternalError(context +
                         ": s3 POST ?uploads returned 200 without an "
                         "UploadId (unexpected answer)");
  }
  return upload_id;
}

Status CompleteMultipartUpload(S3Client& client, const std::string& object_key,
                               const std::string& upload_id,
                               const std::vector<std::string>& etags,
                               std::uint64_t size, const std::string& context) {
  std::string body = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) +
            "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  S3Client::Request request{.method = "POST", .key = object_key};
  request.query = {{"uploadId", upload_id}};
  request.headers = {{"Content-Type", "application/xml"}};
  request.body = body;
  // The server assembles the whole object before it answers (AWS may take
  // minutes, sending spaces meanwhile): its size sets the deadline.
  request.expected_bytes = size;
  BACKENDS_ASSIGN_OR_RETURN(
      XmlAnswer answer,
      SendForXml(client, request, "POST complete multipart upload", context));
  if (!std::string_view(answer.Holder("ETag").child("ETag").text().get())
           .empty()) {
    return Status::OK();
  }
  // No ETag in the answer (radosgw): the object must have the size sent.
  S3Client::Request head{.method = "HEAD", .key = object_key};
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse headed, client.Send(head, context));
  if (headed.status != 200) {
    return AnswerError(headed, "HEAD after complete", context);
  }
  const std::string* length = headed.header("content-length");
  if (length == nullptr || *length != std::to_string(size)) {
    return DataLossError(context +
                         ": after the multipart upload the object holds " +
                         (length == nullptr ? std::string("?") : *length) +
                         " bytes, not the " + std::to_string(size) + " sent");
  }
  return Status::OK();
}

Status AbortMultipartUpload(S3Client& client, const std::string& object_key,
                            const std::string& upload_id, Status cause,
                            const std::string& context) {
  S3Client::Request request{.method = "DELETE", .key = object_key};
  request.query = {{"uploadId", upload_id}};
  auto response = client.Send(request, context);
  if (response.ok() && (response->status == 204 || response->status == 200 ||
                        response->status == 404)) {
    return cause;
  }
  Status abort = response.ok()
                     ? AnswerError(*response, "DELETE ?uploadId", context)
                     : response.status();
  return Status(cause.code(), cause.message() +
                                  "; aborting the multipart upload failed "
                                  "too (upload id " +
                                  upload_id + "): " + abort.message());
}

std::uint64_t PartSizeFor(std::uint64_t size, std::uint64_t requested) {
  std::uint64_t part = std::max(requested, kMinPartSize);
  const std::uint64_t needed =
      size / kMaxParts + (size % kMaxParts != 0 ? 1 : 0);
  if (needed > part) {
    constexpr std::uint64_t kMiB = 1 << 20;
    part = (needed + kMiB - 1) / kMiB * kMiB;
  }
  return std::min(part, kMaxPartSize);
}

Result<std::string> Sha256OfRange(
    const std::function<Result<std::size_t>(std::uint64_t, char*, std::size_t)>&
        read_at,
    std::uint64_t offset, std::uint64_t size) {
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return InternalError("SHA-256: EVP_DigestInit_ex failed");
  }
  std::string chunk(
      static_cast<std::size_t>(std::min<std::uint64_t>(size, kHashChunk)),
      '\0');
  std::uint64_t done = 0;
  while (done < size) {
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(chunk.size(), size - done));
    BACKENDS_ASSIGN_OR_RETURN(std::size_t n,
                              read_at(offset + done, chunk.data(), want));
    if (n == 0) {
      return DataLossError("the source ended at byte " +
                           std::to_string(offset + done) + ", expected " +
                           std::to_string(offset + size));
    }
    EVP_DigestUpdate(ctx.get(), chunk.data(), n);
    done += n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return Hex(digest, length);
}

Status AnswerError(const HttpResponse& response, std::string_view method,
                   std::string_view context) {
  const std::string* code = response.header("x-amz-error-code");
  auto info = ParseS3Error(response.status, response.body,
                           code == nullptr ? std::string_view() : *code);
  if (response.status == 200 && info.http_status == 200) {
    // An <Error> inside a 200 answer: map it as the server error it is.
    info.http_status = 500;
  }
  return S3Error(context, method, info);
}

Result<XmlAnswer> SendForXml(S3Client& client, const S3Client::Request& request,
                             std::string_view method,
                             const std::string& context) {
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                            client.Send(request, context));
  if (response.status != 200) return AnswerError(response, method, context);
  return XmlAnswer::Parse(response.body, method, context);
}

Status UploadObject(S3Client& client, const std::string& object_key,
                    const HttpHeaders& headers, const UploadSource& source,
                    const S3TransferOptions& options,
                    std::string_view context) {
  const std::string where(context);
  std::string prefix;
  if (!source.read_at) {
    // Read up to the threshold to learn whether one PUT will do.
    prefix.resize(static_cast<std::size_t>(options.multipart_threshold) + 1);
    std::size_t filled = 0;
    while (filled < prefix.size()) {
      auto n = source.read(prefix.data() + filled, prefix.size() - filled);
      if (!n.ok()) return n.status().WithContext(where);
      if (*n == 0) break;
      filled += *n;
    }
    prefix.resize(filled);
    if (filled <= options.multipart_threshold) {
      S3Client::Request request{.method = "PUT", .key = object_key};
      request.headers = source.trailing_headers
                            ? Overridden(headers, source.trailing_headers())
                            : headers;
      request.body = prefix;
      BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                                client.Send(request, where));
      if (response.status == 200) return Status::OK();
      return AnswerError(response, "PUT", where);
    }
  } else if (source.size <= options.multipart_threshold) {
    BodyStreams streams;
    streams.upload_size = source.size;
    streams.source = [&source](std::uint64_t at, char* out, std::size_t n) {
      return source.read_at(at, out, n);
    };
    BACKENDS_ASSIGN_OR_RETURN(std::string sha256,
                              Sha256OfRange(source.read_at, 0, source.size));
    S3Client::Request request{.method = "PUT", .key = object_key};
    request.headers = headers;
    const bool source_failed = false;
    BACKENDS_ASSIGN_OR_RETURN(
        HttpResponse response,
        SendStreamRetried(client, request, sha256, streams, "PUT", where,
                          source_failed));
    if (response.status == 200) return Status::OK();
    return AnswerError(response, "PUT", where);
  }
  MultipartUpload upload(client, object_key, source, options, where);
  return upload.Run(headers, std::move(prefix));
}

}  // namespace backends::s3
