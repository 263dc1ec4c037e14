// Bucket creation and unfinished multipart uploads (see s3_admin.h).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
//
// ListMultipartUploads pages by two markers (key, then upload id); a page
// that is truncated but does not move them forward would loop forever, so
// it is a server fault (kDataLoss). Keys come as XML text, not asked for
// URL-encoded: radosgw 16.2 encodes <Key> for encoding-type=url but neither
// says so (no <EncodingType>) nor encodes NextKeyMarker, so an encoded
// answer cannot be read reliably.

#include "s3/s3_admin.h"

#include "iso8601.h"
#include "s3/s3_errors.h"
#include "s3/s3_multipart.h"
#include "s3/xml_answer.h"

namespace backends::s3 {
namespace {

// The bucket's name, quoted, for messages.
std::string BucketContext(std::string_view operation, S3Client& client) {
  return std::string(operation) + " \"" + client.endpoint().bucket + "\"";
}

}  // namespace

Status CreateBucket(S3Client& client, const std::string& region) {
  const std::string context = BucketContext("create bucket", client);
  S3Client::Request request{.method = "PUT"};
  std::string body;
  if (!region.empty() && region != "us-east-1") {
    body =
        "<CreateBucketConfiguration "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
        "\"><LocationConstraint>" +
        region + "</LocationConstraint></CreateBucketConfiguration>";
    request.headers = {{"Content-Type", "application/xml"}};
    request.body = body;
  }
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                            client.Send(request, context));
  if (response.status == 200) return Status::OK();
  const S3ErrorInfo info = ParseS3Error(response.status, response.body);
  const std::string answer =
      "s3 PUT returned " + std::to_string(response.status) + " " + info.code;
  if (info.code == "BucketAlreadyOwnedByYou") {
    return AlreadyExistsError(context + ": the bucket exists and is yours (" +
                              answer + ")");
  }
  if (info.code == "BucketAlreadyExists") {
    return AlreadyExistsError(
        context + ": the name is taken by another account (" + answer + ")");
  }
  if (info.code == "InvalidBucketName") {
    return InvalidArgumentError(context + ": S3 refuses the name (" + answer +
                                ")");
  }
  return AnswerError(response, "PUT", context);
}

Result<std::vector<S3Upload>> ListUploads(S3Client& client,
                                          const std::string& store_prefix,
                                          const std::string& full_prefix) {
  const std::string context = BucketContext("list uploads in bucket", client) +
                              " under " + QuoteKey(full_prefix);
  std::vector<S3Upload> out;
  std::string key_marker, id_marker;
  while (true) {
    S3Client::Request request{.method = "GET"};
    request.query = {{"uploads", ""}};
    if (!full_prefix.empty()) request.query.emplace_back("prefix", full_prefix);
    if (!key_marker.empty()) {
      request.query.emplace_back("key-marker", key_marker);
      request.query.emplace_back("upload-id-marker", id_marker);
    }
    BACKENDS_ASSIGN_OR_RETURN(
        XmlAnswer answer, SendForXml(client, request, "GET ?uploads", context));
    const pugi::xml_node page = answer.Holder("IsTruncated");
    for (pugi::xml_node upload : answer.Holder("Upload").children("Upload")) {
      std::string key = upload.child("Key").text().get();
      if (!key.starts_with(store_prefix)) continue;
      S3Upload entry{.key = key.substr(store_prefix.size()),
                     .upload_id = upload.child("UploadId").text().get()};
      entry.initiated =
          internal::ParseIsoTimePoint(upload.child("Initiated").text().get());
      out.push_back(std::move(entry));
    }
    if (std::string_view(page.child("IsTruncated").text().get()) != "true") {
      return out;
    }
    std::string next_key = page.child("NextKeyMarker").text().get();
    std::string next_id = page.child("NextUploadIdMarker").text().get();
    if (next_key.empty() || (next_key == key_marker && next_id == id_marker)) {
      return DataLossError(context +
                           ": a truncated page of uploads does not advance "
                           "(NextKeyMarker " +
                           QuoteKey(next_key) + ")");
    }
    key_marker = std::move(next_key);
    id_marker = std::move(next_id);
  }
}

Result<bool> AbortUpload(S3Client& client, const std::string& object_key,
                         const std::string& upload_id,
                         const std::string& context) {
  S3Client::Request request{.method = "DELETE", .key = object_key};
  request.query = {{"uploadId", upload_id}};
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                            client.Send(request, context));
  if (response.status == 204 || response.status == 200) return true;
  if (response.status == 404 &&
      ParseS3Error(response.status, response.body).code == "NoSuchUpload") {
    return false;
  }
  return AnswerError(response, "DELETE ?uploadId", context);
}

}  // namespace backends::s3
