// Server-side copy (S3Backend::copy_from): one CopyObject up to the copy
// threshold (at most 5 GiB, S3's limit), else a multipart upload whose
// parts are UploadPartCopy ranges of the source.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
//
// The source is read first with a HEAD: its size chooses the way, its ETag
// pins the version (x-amz-copy-source-if-match on every copy request, so a
// source replaced meanwhile fails with 412 instead of mixing two versions),
// and its headers are restated on the multipart upload, which starts with
// no metadata of its own (CopyObject's default COPY directive keeps them).
// radosgw 16.2 ignores the pin (it copies whatever the source holds then),
// so before completing a copy in parts the source is HEADed again: a
// changed ETag aborts the upload, as a 412 would have.
// Both copy requests may fail inside a 200 answer (the server answers
// before it has copied), so their XML is read for an <Error>. The part
// copies go out together through SendMany, each retried on its own.

#include <algorithm>
#include <charconv>

#include "s3/s3_admin.h"
#include "s3/s3_errors.h"
#include "s3/s3_multipart.h"
#include "s3/sigv4.h"
#include "s3/xml_answer.h"

namespace backends::s3 {
namespace {

constexpr std::uint64_t kMaxCopyObject = 5ull << 30;

// The headers of a HEAD answer that describe the value, which a copy keeps.
HttpHeaders ValueHeaders(const HttpResponse& head) {
  HttpHeaders kept;
  for (const auto& [name, value] : head.headers) {
    if (name == "content-type" || name == "content-encoding" ||
        name == "cache-control" || name == "content-disposition" ||
        name == "content-language" || name == "expires" ||
        name.starts_with("x-amz-meta-")) {
      kept.emplace_back(name, value);
    }
  }
  return kept;
}

// x-amz-copy-source and, when the source has an ETag, its pin.
HttpHeaders SourceHeaders(const ObjectRef& source, const std::string* etag) {
  std::string path = "/";  // appended, not +: g++ 12 -O3 -Wrestrict
  path += source.bucket;
  path += '/';
  path += source.key;
  HttpHeaders headers = {{"x-amz-copy-source", UriEncode(path, true)}};
  if (etag != nullptr && !etag->empty()) {
    headers.emplace_back("x-amz-copy-source-if-match", *etag);
  }
  return headers;
}

// A copy request's answer: true with its ETag in `etag`, false if the
// source is gone, or the error (kFailedPrecondition: the source changed).
Result<bool> ReadCopyAnswer(const HttpResponse& response,
                            std::string_view method, const std::string& context,
                            std::string& etag) {
  if (response.status == 404 &&
      ParseS3Error(response.status, response.body).code == "NoSuchKey") {
    return false;
  }
  if (response.status == 412) {
    return FailedPreconditionError(
        context + ": the source changed during the copy (s3 " +
        std::string(method) + " returned 412 PreconditionFailed)");
  }
  if (response.status != 200) return AnswerError(response, method, context);
  BACKENDS_ASSIGN_OR_RETURN(XmlAnswer answer,
                            XmlAnswer::Parse(response.body, method, context));
  etag = answer.Holder("ETag").child("ETag").text().get();
  return true;
}

Result<bool> CopyWhole(S3Client& client, const HttpHeaders& source_headers,
                       const std::string& destination_key, std::uint64_t size,
                       bool public_read, const std::string& context) {
  S3Client::Request request{.method = "PUT", .key = destination_key};
  request.headers = source_headers;
  if (public_read) request.headers.emplace_back("x-amz-acl", "public-read");
  request.expected_bytes = size;  // the server copies them before it answers
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                            client.Send(request, context));
  std::string etag;
  return ReadCopyAnswer(response, "PUT copy", context, etag);
}

// Whether the source's ETag is still `etag` (for servers that ignore the
// pin): kFailedPrecondition if not.
Status CheckSourceUnchanged(S3Client& client, const ObjectRef& source,
                            const std::string& etag,
                            const std::string& context) {
  S3Client::Request head{
      .method = "HEAD", .key = source.key, .bucket = source.bucket};
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse now, client.Send(head, context));
  if (now.status != 200 && now.status != 404) {
    return AnswerError(now, "HEAD (the copy's source)", context);
  }
  const std::string* tag = now.header("etag");
  if (now.status == 404 || tag == nullptr || *tag != etag) {
    return FailedPreconditionError(context +
                                   ": the source changed during the copy "
                                   "(its ETag is no longer " +
                                   etag + ")");
  }
  return Status::OK();
}

Result<bool> CopyInParts(S3Client& client, const ObjectRef& source,
                         const HttpResponse& head,
                         const HttpHeaders& source_headers,
                         const std::string& destination_key, std::uint64_t size,
                         const S3TransferOptions& transfer, bool public_read,
                         const std::string& context) {
  HttpHeaders headers = ValueHeaders(head);
  if (public_read) headers.emplace_back("x-amz-acl", "public-read");
  BACKENDS_ASSIGN_OR_RETURN(
      std::string upload_id,
      CreateMultipartUpload(client, destination_key, headers, context));
  const std::uint64_t part_size = PartSizeFor(size, transfer.part_size);
  std::vector<S3Client::Request> requests;
  std::vector<std::string> contexts;
  for (std::uint64_t offset = 0; offset < size; offset += part_size) {
    const std::uint64_t length = std::min(part_size, size - offset);
    S3Client::Request request{.method = "PUT", .key = destination_key};
    request.query = {{"partNumber", std::to_string(requests.size() + 1)},
                     {"uploadId", upload_id}};
    request.headers = source_headers;
    request.headers.emplace_back("x-amz-copy-source-range",
                                 "bytes=" + std::to_string(offset) + "-" +
                                     std::to_string(offset + length - 1));
    request.expected_bytes = length;
    requests.push_back(std::move(request));
    contexts.push_back(context + " (part " + std::to_string(requests.size()) +
                       ")");
  }
  auto answers = client.SendMany(
      requests, contexts, std::max<std::size_t>(1, transfer.parallel_parts));
  std::vector<std::string> etags(requests.size());
  Status failure;
  for (std::size_t i = 0; i < answers.size() && failure.ok(); ++i) {
    Result<bool> copied = answers[i].ok()
                              ? ReadCopyAnswer(*answers[i], "PUT part copy",
                                               contexts[i], etags[i])
                              : Result<bool>(answers[i].status());
    if (!copied.ok()) {
      failure = copied.status();
    } else if (!*copied) {
      failure = FailedPreconditionError(
          contexts[i] + ": the source was removed during the copy");
    } else if (etags[i].empty()) {
      failure = InternalError(contexts[i] +
                              ": s3 PUT part copy returned 200 without an "
                              "ETag");
    }
  }
  const std::string* source_etag = head.header("etag");
  if (failure.ok() && source_etag != nullptr && !source_etag->empty()) {
    failure = CheckSourceUnchanged(client, source, *source_etag, context);
  }
  if (failure.ok()) {
    failure = CompleteMultipartUpload(client, destination_key, upload_id, etags,
                                      size, context);
  }
  if (!failure.ok()) {
    return AbortMultipartUpload(client, destination_key, upload_id,
                                std::move(failure), context);
  }
  return true;
}

}  // namespace

bool SameS3Service(std::string_view a, std::string_view b) {
  auto on_aws = [](std::string_view endpoint) {
    return endpoint.starts_with("https://") &&
           endpoint.ends_with(".amazonaws.com");
  };
  return a == b || (on_aws(a) && on_aws(b));
}

Result<bool> ServerSideCopy(S3Client& client, const ObjectRef& source,
                            const std::string& destination_key,
                            const S3TransferOptions& transfer, bool public_read,
                            const std::string& context) {
  S3Client::Request head{
      .method = "HEAD", .key = source.key, .bucket = source.bucket};
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse stat, client.Send(head, context));
  if (stat.status == 404) return false;
  if (stat.status != 200) {
    return AnswerError(stat, "HEAD (the copy's source)", context);
  }
  const std::string* length = stat.header("content-length");
  std::uint64_t size = 0;
  if (length == nullptr ||
      std::from_chars(length->data(), length->data() + length->size(), size)
              .ptr != length->data() + length->size()) {
    return InternalError(context +
                         ": s3 HEAD of the copy's source answered without a "
                         "valid Content-Length");
  }
  const HttpHeaders source_headers = SourceHeaders(source, stat.header("etag"));
  if (size <= std::min(transfer.copy_threshold, kMaxCopyObject)) {
    return CopyWhole(client, source_headers, destination_key, size, public_read,
                     context);
  }
  return CopyInParts(client, source, stat, source_headers, destination_key,
                     size, transfer, public_read, context);
}

}  // namespace backends::s3
