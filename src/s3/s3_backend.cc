// The S3 store: the Backend contract on S3 requests (see s3.h for the
// mapping of each operation), plus S3JsonBackend and S3RawBackend.
//
// Missing versus failing: GET and HEAD answer 404 for a missing key. A GET
// 404 carries an error document (NoSuchKey: missing; NoSuchBucket: an
// error); a HEAD 404 has no body, so HEAD cannot tell a missing key from a
// missing bucket: Open() checks the bucket once (check_bucket) for that.
// A HEAD failing with another status also has no body: the error code
// (AccessDenied, SignatureDoesNotMatch, ...) is learned by repeating the
// request as a one-byte GET, so the error names its cause.
//
// remove(): S3 DELETE answers 204 whether or not the key existed, so
// whether it existed comes from a HEAD first. Between the HEAD and the
// DELETE another client may remove the key; both callers then see true.
//
// Conditional writes (412, 409 or If-Match's 404 = failed condition) carry
// a random write id (x-amz-meta-write-id): a HEAD then tells our own lost
// write (success) from another writer's, even one of identical bytes, so
// compare-and-swap loses no update. Batches build the single-key requests,
// send them together through S3Client::SendMany (s3_batch.h) and read each
// answer as the single-key path does.
//
// gzip: objects of the gzip content types are stored compressed, with
// x-amz-meta-uncompressed-size (stat() reports the value's size).

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>

#include "backends/s3.h"
#include "s3/content_type.h"
#include "s3/credentials.h"
#include "s3/gzip.h"
#include "s3/list_objects.h"
#include "s3/s3_admin.h"
#include "s3/s3_batch.h"
#include "s3/s3_client.h"
#include "s3/s3_config.h"
#include "s3/s3_errors.h"
#include "s3/s3_url.h"
#include "s3/sigv4.h"

namespace backends {
namespace {

using s3::HttpResponse;
using s3::S3Client;

constexpr std::size_t kMaxObjectKeyBytes = 1024;
constexpr std::string_view kSizeHeader = "x-amz-meta-uncompressed-size";
constexpr std::string_view kWriteIdHeader = "x-amz-meta-write-id";

std::string Context(std::string_view operation, std::string_view key) {
  return std::string(operation) + " " + QuoteKey(key);
}

std::optional<std::uint64_t> ParseSize(const std::string* text) {
  if (text == nullptr) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, error] =
      std::from_chars(text->data(), text->data() + text->size(), n);
  if (error != std::errc() || end != text->data() + text->size()) {
    return std::nullopt;
  }
  return n;
}

// What S3Backend::Open needs from the options and the environment.
struct Resolved {
  s3::ResolvedS3Config config;
  s3::S3Endpoint endpoint;
  s3::TransportOptions transport;
  std::shared_ptr<s3::CredentialsProvider> credentials;
};

Result<Resolved> Resolve(const S3Options& options) {
  Resolved out;
  BACKENDS_ASSIGN_OR_RETURN(out.config,
                            s3::ResolveS3Config(options, s3::Environment()));
  out.endpoint = {.scheme = out.config.scheme,
                  .authority = out.config.authority,
                  .bucket = options.bucket,
                  .region = out.config.region,
                  .path_style = out.config.path_style,
                  .aws = out.config.endpoint_is_default};
  out.transport = {
      .verify_tls = options.verify_tls,
      .ca_bundle = out.config.ca_bundle,
      .connect_timeout = options.connect_timeout,
      .request_timeout = options.request_timeout,
      .min_transfer_rate = options.min_transfer_rate,
      .stall_timeout = options.stall_timeout,
      // One idle handle (and kept connection) per request a batch keeps in
      // flight.
      .max_idle_handles = std::max<std::size_t>(16, options.connections)};
  s3::CredentialsOptions credentials;
  credentials.access_key_id = options.access_key_id;
  credentials.secret_access_key = options.secret_access_key;
  credentials.session_token = options.session_token;
  credentials.profile = out.config.profile;
  credentials.anonymous = options.anonymous;
  credentials.clock = options.clock;
  auto provider = s3::MakeCredentialsProvider(credentials);
  if (!provider.ok()) {
    return provider.status().WithContext("open bucket \"" + options.bucket +
                                         "\"");
  }
  out.credentials = std::move(provider).value();
  return out;
}

std::string HeaderOr(const HttpResponse& response, std::string_view name) {
  const std::string* value = response.header(name);
  return value == nullptr ? std::string() : *value;
}

class S3BackendImpl final : public S3Backend {
 public:
  S3BackendImpl(S3Options options, bool endpoint_is_default,
                std::unique_ptr<S3Client> client)
      : options_(std::move(options)),
        endpoint_is_default_(endpoint_is_default),
        client_(std::move(client)) {}

  const S3Options& options() const override { return options_; }

  Status CheckBucket() {
    S3Client::Request request{.method = "HEAD"};
    const std::string context = "open bucket \"" + options_.bucket + "\"";
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    if (response.status == 200) return Status::OK();
    if (response.status == 404) {
      return NotFoundError(context + ": s3 HEAD returned 404 NoSuchBucket (" +
                           "the bucket does not exist)");
    }
    // A 403 may only mean that this identity may not list the bucket while
    // it may read and write objects: leave the verdict to the operations.
    if (response.status == 403) return Status::OK();
    return Diagnose(request, response, context);
  }

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto object, Get("load", key, true));
    if (!object) return std::optional<std::string>();
    return std::optional<std::string>(std::move(object->body));
  }

  // One ranged GET. A gzip-stored object (whose stored bytes are not the
  // value's) is loaded whole and sliced, as is the answer of a server that
  // ignores Range (200 with the whole body).
  Result<std::optional<std::string>> load_range(std::string_view key,
                                                std::uint64_t offset,
                                                std::uint64_t length) override {
    BACKENDS_RETURN_IF_ERROR(CheckKey("load_range", key));
    if (length == 0) {
      BACKENDS_ASSIGN_OR_RETURN(bool present, contains(key));
      return present ? std::optional<std::string>("") : std::nullopt;
    }
    std::string context;
    BACKENDS_ASSIGN_OR_RETURN(S3Client::Request request,
                              KeyRequest("GET", "load_range", key, context));
    std::string range = "bytes=" + std::to_string(offset) + "-";
    if (length - 1 <= UINT64_MAX - offset) {
      range += std::to_string(offset + (length - 1));
    }
    request.headers.emplace_back("Range", std::move(range));
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    if (response.status == 416) {  // The offset is at or past the end.
      BACKENDS_ASSIGN_OR_RETURN(auto head, Head("load_range", key));
      if (!head) return std::optional<std::string>();
      if (HeaderOr(*head, "content-encoding").empty()) {
        return std::optional<std::string>("");
      }
      return Backend::load_range(key, offset, length);
    }
    const bool partial = response.status == 206;
    if (partial) response.status = 200;
    BACKENDS_ASSIGN_OR_RETURN(
        auto object, ReadGet(request, std::move(response), context, false));
    if (!object) return std::optional<std::string>();
    if (!object->content_encoding.empty() || !partial) {
      return Backend::load_range(key, offset, length);
    }
    return std::optional<std::string>(std::move(object->body));
  }

  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override {
    if (src_key == dst_key) {
      BACKENDS_RETURN_IF_ERROR(CheckKey("copy", dst_key));
      return contains(src_key);
    }
    return copy_from(*this, src_key, dst_key);
  }

  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_ASSIGN_OR_RETURN(
        S3PutResult written,
        put(key, value,
            {.if_absent = condition.if_absent, .if_match = condition.if_version}));
    return written.etag;
  }

  Result<std::optional<S3Object>> load_object(std::string_view key,
                                              bool decode) override {
    return Get("load", key, decode);
  }

  Status dump(std::string_view key, std::string_view value) override {
    return dump(key, value, S3PutOptions{});
  }

  Status dump(std::string_view key, std::string_view value,
              const S3PutOptions& options) override {
    return put(key, value, options).status();
  }

  Result<S3PutResult> put(std::string_view key, std::string_view value,
                          const S3PutOptions& put) override {
    const std::string context = Context("dump", key);
    std::string compressed;
    BACKENDS_ASSIGN_OR_RETURN(S3Client::Request request,
                              PutRequest(key, value, put, compressed));
    if (put.if_absent) request.headers.emplace_back("If-None-Match", "*");
    if (put.if_match) request.headers.emplace_back("If-Match", *put.if_match);
    const bool conditional = put.if_absent || put.if_match.has_value();
    const std::string write_id = conditional ? s3::NewWriteId() : "";
    if (conditional) {
      request.headers.emplace_back(std::string(kWriteIdHeader), write_id);
    }
    for (bool unquoted = false;; unquoted = true) {
      BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                                client_->Send(request, context));
      if (response.status == 200) {
        return S3PutResult{.etag = HeaderOr(response, "etag")};
      }
      if (!conditional ||
          !(response.status == 412 || response.status == 409 ||
            (response.status == 404 && put.if_match && !put.if_absent))) {
        return Diagnose(request, response, context);
      }
      // Our own earlier attempt, whose answer was lost, may be what failed
      // the condition (we retry, and curl itself resends on a reused
      // connection that died): then the object carries our write id.
      auto head = Head("dump", key);
      HttpResponse stored =
          head.ok() && head->has_value() ? **head : HttpResponse();
      if (HeaderOr(stored, kWriteIdHeader) == write_id) {
        return S3PutResult{.etag = HeaderOr(stored, "etag")};
      }
      // Some servers (radosgw 16.2) compare If-Match with the unquoted ETag
      // and refuse the quoted form even when it matches: then ask once
      // more, still conditionally, unquoted.
      const std::string& tag = put.if_match.value_or("");
      if (!unquoted && !put.if_absent && tag.size() > 2 && tag[0] == '"' &&
          HeaderOr(stored, "etag") == tag) {
        for (auto& [name, text] : request.headers) {
          if (name == "If-Match") text = tag.substr(1, tag.size() - 2);
        }
        continue;
      }
      const std::string answer =
          "s3 PUT returned " + std::to_string(response.status) + ")";
      if (put.if_absent) {
        return AlreadyExistsError(context +
                                  ": precondition failed: the key "
                                  "already exists (create-only; " +
                                  answer);
      }
      return FailedPreconditionError(
          context + ": precondition failed: the object's ETag is no longer " +
          tag + " (or the key was removed; " + answer);
    }
  }

  Result<std::optional<std::string>> etag(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(CheckKey("etag", key));
    BACKENDS_ASSIGN_OR_RETURN(auto head, Head("etag", key));
    return head ? std::optional(HeaderOr(*head, "etag")) : std::nullopt;
  }

  std::vector<Result<std::optional<std::string>>> load_many(
      std::span<const std::string> keys) override {
    return Batch<Result<std::optional<std::string>>>(
        keys.size(),
        [&](std::size_t i, std::string& context) {
          return KeyRequest("GET", "load", keys[i], context);
        },
        [&](const S3Client::Request& request, HttpResponse response,
            const std::string& context) -> Result<std::optional<std::string>> {
          BACKENDS_ASSIGN_OR_RETURN(
              auto object,
              ReadGet(request, std::move(response), context, true));
          if (!object) return std::optional<std::string>();
          return std::optional<std::string>(std::move(object->body));
        });
  }

  std::vector<Status> dump_many(
      std::span<const std::pair<std::string, std::string>> items) override {
    // Gzipped bodies live here while their requests are in flight.
    std::vector<std::string> compressed(items.size());
    return Batch<Status>(
        items.size(),
        [&](std::size_t i, std::string& context) {
          context = Context("dump", items[i].first);
          return PutRequest(items[i].first, items[i].second, {}, compressed[i]);
        },
        [&](const S3Client::Request& request, HttpResponse response,
            const std::string& context) {
          if (response.status == 200) return Status::OK();
          return Diagnose(request, response, context);
        });
  }

  // HEADs for all keys, then DELETEs for those that exist.
  std::vector<Result<bool>> remove_many(
      std::span<const std::string> keys) override {
    std::vector<Result<bool>> existed = Batch<Result<bool>>(
        keys.size(),
        [&](std::size_t i, std::string& context) {
          return KeyRequest("HEAD", "remove", keys[i], context);
        },
        [&](const S3Client::Request& request, HttpResponse response,
            const std::string& context) -> Result<bool> {
          BACKENDS_ASSIGN_OR_RETURN(
              auto head, ReadHead(request, std::move(response), context));
          return head.has_value();
        });
    std::vector<std::size_t> present;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (existed[i].ok() && *existed[i]) present.push_back(i);
    }
    std::vector<Result<bool>> removed = Batch<Result<bool>>(
        present.size(),
        [&](std::size_t j, std::string& context) {
          return KeyRequest("DELETE", "remove", keys[present[j]], context);
        },
        [&](const S3Client::Request& request, HttpResponse response,
            const std::string& context) {
          return ReadDelete(request, response, context);
        });
    for (std::size_t j = 0; j < present.size(); ++j) {
      existed[present[j]] = std::move(removed[j]);
    }
    return existed;
  }

  Result<std::vector<Entry>> items() override {
    BACKENDS_ASSIGN_OR_RETURN(auto keys, list(""));
    auto values = load_many(keys);
    BACKENDS_RETURN_IF_ERROR(s3::FirstError(values));
    std::vector<Entry> entries;
    entries.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!values[i]->has_value()) continue;  // removed meanwhile
      entries.emplace_back(std::move(keys[i]), std::move(**values[i]));
    }
    return entries;
  }

  Result<bool> remove(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(CheckKey("remove", key));
    BACKENDS_ASSIGN_OR_RETURN(auto head, Head("remove", key));
    if (!head) return false;
    std::string context;
    BACKENDS_ASSIGN_OR_RETURN(S3Client::Request request,
                              KeyRequest("DELETE", "remove", key, context));
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    return ReadDelete(request, response, context);
  }

  Result<bool> contains(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(CheckKey("contains", key));
    BACKENDS_ASSIGN_OR_RETURN(auto head, Head("contains", key));
    return head.has_value();
  }

  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(CheckKey("stat", key));
    BACKENDS_ASSIGN_OR_RETURN(auto head, Head("stat", key));
    if (!head) return std::optional<KeyInfo>();
    KeyInfo info;
    auto size = ParseSize(head->header(kSizeHeader));
    if (!size) size = ParseSize(head->header("content-length"));
    info.size = size.value_or(0);
    if (const std::string* modified = head->header("last-modified")) {
      info.modified = s3::ParseHttpDate(*modified);
    }
    info.version = HeaderOr(*head, "etag");
    info.content_type = HeaderOr(*head, "content-type");
    info.content_encoding = HeaderOr(*head, "content-encoding");
    constexpr std::string_view kMetaPrefix = "x-amz-meta-";
    for (const auto& [name, value] : head->headers) {
      if (name.starts_with(kMetaPrefix)) {
        info.metadata.emplace_back(name.substr(kMetaPrefix.size()), value);
      }
    }
    return std::optional<KeyInfo>(std::move(info));
  }

  Result<std::vector<std::string>> list(std::string_view prefix) override {
    BACKENDS_ASSIGN_OR_RETURN(
        auto objects,
        ListObjects("list", options_.prefix + std::string(prefix)));
    std::vector<std::string> keys;
    keys.reserve(objects.size());
    for (auto& object : objects) {  // sorted: ListingGuard checked it
      keys.push_back(object.key.substr(options_.prefix.size()));
    }
    return keys;
  }

  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override {
    KeyPage page;
    BACKENDS_ASSIGN_OR_RETURN(
        auto objects,
        ListObjects("list", options_.prefix + std::string(prefix),
                    start_after.empty()
                        ? std::string()
                        : options_.prefix + std::string(start_after),
                    std::max<std::size_t>(limit, 1), &page.more));
    page.keys.reserve(objects.size());
    for (auto& object : objects) {  // sorted: ListingGuard checked it
      page.keys.push_back(object.key.substr(options_.prefix.size()));
    }
    if (page.keys.empty()) page.more = false;
    return page;
  }

  // Sizes are as stored: a gzip-stored object lists its compressed size
  // (stat reads the value's size from its metadata, which listings lack).
  Result<EntryPage> list_entries(const ListRequest& request) override {
    // A position after a common prefix ends with 0xFF (backend.h), which no
    // UTF-8 start-after may hold: the prefix itself is sent instead, and
    // what the answer repeats of it (its common prefix, or its keys when
    // there is no delimiter) is dropped.
    std::string start_after = request.start_after;
    std::string passed;
    if (const auto cut = start_after.find('\xff'); cut != std::string::npos) {
      if (cut == 0) return EntryPage{};  // after every key
      start_after.resize(cut);
      passed = start_after;
    }
    const std::string full_prefix = options_.prefix + request.prefix;
    const std::string context = "list " + QuoteKey(full_prefix) +
                                " in bucket \"" + options_.bucket + "\"";
    const std::size_t limit = std::max<std::size_t>(request.limit, 1);
    EntryPage page;
    auto count = [&] {
      return page.entries.size() + page.common_prefixes.size();
    };
    auto shown = [&](const std::string& full) -> std::optional<std::string> {
      if (!full.starts_with(full_prefix)) return std::nullopt;
      std::string key = full.substr(options_.prefix.size());
      if (!passed.empty() && key.starts_with(passed)) return std::nullopt;
      return key;
    };
    s3::ListingGuard guard(context);
    const std::string full_start_after =
        start_after.empty() ? std::string() : options_.prefix + start_after;
    std::string token;
    while (true) {
      BACKENDS_ASSIGN_OR_RETURN(
          auto answer,
          ListOnePage(context, full_prefix, request.delimiter, full_start_after,
                      token, limit - count(), guard));
      for (auto& object : answer.objects) {
        auto key = shown(object.key);
        if (!key) continue;
        page.entries.push_back(ListEntry{
            std::move(*key), KeyInfo{.size = object.size,
                                     .modified = object.modified,
                                     .version = std::move(object.etag)}});
      }
      for (const auto& common : answer.common_prefixes) {
        if (auto shown_prefix = shown(common)) {
          page.common_prefixes.push_back(std::move(*shown_prefix));
        }
      }
      token = answer.truncated ? answer.next_token : std::string();
      if (token.empty()) break;
      if (count() >= limit) {
        page.more = true;
        break;
      }
    }
    // The last item of the page, a key or a common prefix, is the larger.
    if (!page.entries.empty()) page.resume_after = page.entries.back().key;
    if (!page.common_prefixes.empty()) {
      page.resume_after =
          std::max(page.resume_after, page.common_prefixes.back() + '\xff');
    }
    if (count() == 0) page.more = false;
    return page;
  }

  // Counts page by page: memory does not grow with the number of keys.
  Result<std::size_t> size() override {
    std::size_t count = 0;
    BACKENDS_RETURN_IF_ERROR(
        WalkListing("size", options_.prefix, "", kNoLimit,
                    [&](std::vector<s3::ListedObject>& objects)
                        -> Result<std::size_t> {
                      count += objects.size();
                      return kNoLimit;
                    })
            .status());
    return count;
  }

  // Deletes as it lists: each page (at most 1000 keys) is one DeleteObjects
  // batch, sent kClearBatches at a time in parallel. A continuation token
  // names a position, so deleting keys already listed skips nothing.
  Status clear() override {
    std::vector<std::vector<std::string>> batches;
    auto send = [&]() -> Status {
      // The XML bodies live here while their requests are in flight.
      std::vector<std::string> bodies(batches.size());
      Status status = s3::FirstError(Batch<Status>(
          batches.size(),
          [&](std::size_t i, std::string& context) {
            return DeleteObjectsRequest(batches[i], bodies[i], context);
          },
          [&](const S3Client::Request& request, HttpResponse response,
              const std::string& context) {
            return ReadDeleteObjects(request, response, context);
          }));
      batches.clear();
      return status;
    };
    auto walked = WalkListing(
        "clear", options_.prefix, "", kNoLimit,
        [&](std::vector<s3::ListedObject>& objects) -> Result<std::size_t> {
          if (objects.empty()) return kNoLimit;
          auto& batch = batches.emplace_back();
          for (auto& object : objects) batch.push_back(std::move(object.key));
          if (batches.size() == kClearBatches) {
            BACKENDS_RETURN_IF_ERROR(send());
          }
          return kNoLimit;
        });
    if (!walked.ok()) return walked.status();
    return send();
  }

  std::string url() const override {
    S3Options shown = options_;
    shown.region = client_->endpoint().region;
    return s3::S3StoreUrl(shown, endpoint_is_default_);
  }

  std::string public_url(std::string_view key) const override {
    return client_->ObjectUrl(options_.bucket, ObjectKey(key));
  }
  std::string public_url(std::string_view bucket,
                         std::string_view key) const override {
    return client_->ObjectUrl(bucket, key);
  }

  Status make_public(std::string_view key) override {
    return PutAcl("make_public", key, "public-read");
  }
  Status make_private(std::string_view key) override {
    return PutAcl("make_private", key, "private");
  }

  Result<std::string> presign(std::string_view key, std::chrono::seconds expiry,
                              S3PresignMethod method) override {
    BACKENDS_RETURN_IF_ERROR(CheckKey("presign", key));
    const std::string context = Context("presign", key);
    if (expiry < std::chrono::seconds(1) ||
        expiry > std::chrono::seconds(7 * 24 * 3600)) {
      return InvalidArgumentError(context +
                                  ": expiry must be 1 s to 7 days, not " +
                                  std::to_string(expiry.count()) + " s");
    }
    return client_->Presign(method == S3PresignMethod::kPut ? "PUT" : "GET",
                            ObjectKey(key), expiry, context);
  }

  // Server-side copy and housekeeping: the requests are in s3_copy.cc and
  // s3_admin.cc.
  Result<bool> copy_from(S3Backend& source, std::string_view source_key,
                         std::string_view key) override {
    const std::string context =
        "copy " + QuoteKey(source_key) + " to " + QuoteKey(key);
    BACKENDS_RETURN_IF_ERROR(ValidateKey("copy", source_key));
    BACKENDS_RETURN_IF_ERROR(CheckKey("copy", key));
    const S3Options& from = source.options();
    if (!s3::SameS3Service(from.endpoint, options_.endpoint)) {
      return InvalidArgumentError(context + ": the source store is on " +
                                  from.endpoint + ", this one on " +
                                  options_.endpoint +
                                  "; a server-side copy needs one endpoint");
    }
    return s3::ServerSideCopy(
        *client_,
        {.bucket = from.bucket, .key = from.prefix + std::string(source_key)},
        ObjectKey(key), options_.transfer, options_.public_read, context);
  }

  Status create_bucket() override {
    return s3::CreateBucket(*client_, client_->endpoint().region);
  }

  Result<std::vector<S3Upload>> list_uploads(std::string_view prefix) override {
    return s3::ListUploads(*client_, options_.prefix,
                           options_.prefix + std::string(prefix));
  }

  // Not CheckKey: an upload another tool began may have any key.
  Result<bool> abort_upload(const S3Upload& upload) override {
    return s3::AbortUpload(*client_, ObjectKey(upload.key), upload.upload_id,
                           Context("abort upload", upload.key));
  }

 private:
  std::string ObjectKey(std::string_view key) const {
    return options_.prefix + std::string(key);
  }

  Status CheckKey(std::string_view operation, std::string_view key) const {
    BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, key));
    if (options_.prefix.size() + key.size() > kMaxObjectKeyBytes) {
      return InvalidArgumentError(
          Context(operation, key) + ": prefix + key is " +
          std::to_string(options_.prefix.size() + key.size()) +
          " bytes; S3 keys hold at most 1024");
    }
    return Status::OK();
  }

  // The Status for a failed answer. A HEAD error has no body: repeat it as a
  // one-byte GET to learn the S3 error code.
  Status Diagnose(const S3Client::Request& request,
                  const HttpResponse& response, std::string_view context) {
    auto info = s3::ParseS3Error(response.status, response.body,
                                 HeaderOr(response, "x-amz-error-code"));
    info.bucket_region = HeaderOr(response, "x-amz-bucket-region");
    if (request.method == "HEAD" && info.code.empty()) {
      S3Client::Request probe{.method = "GET", .key = request.key};
      if (request.key.empty()) {
        probe.query = {{"list-type", "2"}, {"max-keys", "1"}};
      } else {
        probe.headers.emplace_back("Range", "bytes=0-0");
      }
      auto answer = client_->Send(probe, context);
      if (answer.ok() && answer->status == response.status) {
        auto detail = s3::ParseS3Error(answer->status, answer->body);
        info.code = detail.code;
        info.message = detail.message;
        info.request_id = detail.request_id;
      }
    }
    return s3::S3Error(context, request.method, info);
  }

  // Runs one request per item through S3Client::SendMany, at most
  // options().connections at once: make(i, context) builds item i's
  // request and names it (an error is that item's result), read(request,
  // answer, context) turns its answer into the item's result.
  template <typename R, typename Make, typename Read>
  std::vector<R> Batch(std::size_t count, Make make, Read read) {
    std::vector<std::optional<R>> results(count);
    std::vector<S3Client::Request> requests;
    std::vector<std::string> contexts;
    std::vector<std::size_t> sent;  // item of each request
    for (std::size_t i = 0; i < count; ++i) {
      std::string context;
      Result<S3Client::Request> request = make(i, context);
      if (!request.ok()) {
        results[i].emplace(request.status());
        continue;
      }
      requests.push_back(std::move(*request));
      contexts.push_back(std::move(context));
      sent.push_back(i);
    }
    auto answers = client_->SendMany(requests, contexts, options_.connections);
    for (std::size_t j = 0; j < sent.size(); ++j) {
      if (!answers[j].ok()) {
        results[sent[j]].emplace(answers[j].status());
      } else {
        results[sent[j]].emplace(
            read(requests[j], std::move(*answers[j]), contexts[j]));
      }
    }
    std::vector<R> out;
    out.reserve(count);
    for (auto& result : results) out.push_back(std::move(*result));
    return out;
  }

  // A bodiless request on `key`'s object, named in `context`.
  Result<S3Client::Request> KeyRequest(std::string method,
                                       std::string_view operation,
                                       std::string_view key,
                                       std::string& context) const {
    BACKENDS_RETURN_IF_ERROR(CheckKey(operation, key));
    context = Context(operation, key);
    return S3Client::Request{.method = std::move(method),
                             .key = ObjectKey(key)};
  }

  Result<std::optional<S3Object>> Get(std::string_view operation,
                                      std::string_view key, bool decode) {
    std::string context;
    BACKENDS_ASSIGN_OR_RETURN(S3Client::Request request,
                              KeyRequest("GET", operation, key, context));
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    return ReadGet(request, std::move(response), context, decode);
  }

  // A GET's answer: the object, or std::nullopt if the key is missing.
  Result<std::optional<S3Object>> ReadGet(const S3Client::Request& request,
                                          HttpResponse response,
                                          const std::string& context,
                                          bool decode) {
    if (response.status == 404) {
      auto info = s3::ParseS3Error(response.status, response.body);
      if (info.code.empty() || info.code == "NoSuchKey") {
        return std::optional<S3Object>();
      }
    }
    if (response.status != 200) return Diagnose(request, response, context);
    S3Object object;
    object.content_type = HeaderOr(response, "content-type");
    object.content_encoding = HeaderOr(response, "content-encoding");
    object.cache_control = HeaderOr(response, "cache-control");
    object.etag = HeaderOr(response, "etag");
    if (decode && s3::ContentTypeIn(object.content_encoding, {"gzip"})) {
      BACKENDS_ASSIGN_OR_RETURN(object.body,
                                s3::GzipDecompress(response.body, context));
    } else {
      object.body = std::move(response.body);
    }
    return std::optional<S3Object>(std::move(object));
  }

  // The HEAD answer, or std::nullopt if the key is missing.
  Result<std::optional<HttpResponse>> Head(std::string_view operation,
                                           std::string_view key) {
    std::string context;
    BACKENDS_ASSIGN_OR_RETURN(S3Client::Request request,
                              KeyRequest("HEAD", operation, key, context));
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    return ReadHead(request, std::move(response), context);
  }

  Result<std::optional<HttpResponse>> ReadHead(const S3Client::Request& request,
                                               HttpResponse response,
                                               const std::string& context) {
    if (response.status == 404) return std::optional<HttpResponse>();
    if (response.status != 200) return Diagnose(request, response, context);
    return std::optional<HttpResponse>(std::move(response));
  }

  // One ListObjectsV2 request under `full_prefix`: the page after `token`,
  // or after `start_after` when there is none, of at most `max_keys` keys
  // and common prefixes, checked by `guard`.
  Result<s3::ListPage> ListOnePage(
      const std::string& context, const std::string& full_prefix,
      std::string_view delimiter, const std::string& start_after,
      const std::string& token, std::size_t max_keys, s3::ListingGuard& guard) {
    S3Client::Request request{.method = "GET"};
    request.query = {{"list-type", "2"}, {"encoding-type", "url"}};
    if (!full_prefix.empty()) request.query.emplace_back("prefix", full_prefix);
    if (!delimiter.empty()) {
      request.query.emplace_back("delimiter", std::string(delimiter));
    }
    if (!token.empty()) {
      request.query.emplace_back("continuation-token", token);
    } else if (!start_after.empty()) {
      request.query.emplace_back("start-after", start_after);
    }
    if (max_keys < s3::kMaxListPage) {
      request.query.emplace_back("max-keys", std::to_string(max_keys));
    }
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    if (response.status != 200) return Diagnose(request, response, context);
    BACKENDS_ASSIGN_OR_RETURN(auto page,
                              s3::ParseListObjectsV2(response.body, context));
    BACKENDS_RETURN_IF_ERROR(guard.Check(page));
    return page;
  }

  static constexpr std::size_t kNoLimit =
      std::numeric_limits<std::size_t>::max();
  // DeleteObjects requests clear() sends at a time.
  static constexpr std::size_t kClearBatches = 16;

  // Reads the listing under `full_prefix` after `start_after` (from the
  // first when empty) page by page, asking for at most `max_keys` keys
  // first: `each` takes a page's objects and returns how many keys to ask
  // for next (0 stops). Returns whether keys remained when it stopped.
  Result<bool> WalkListing(
      std::string_view operation, const std::string& full_prefix,
      const std::string& start_after, std::size_t max_keys,
      const std::function<Result<std::size_t>(std::vector<s3::ListedObject>&)>&
          each) {
    const std::string context = std::string(operation) + " " +
                                QuoteKey(full_prefix) + " in bucket \"" +
                                options_.bucket + "\"";
    std::string token;
    s3::ListingGuard guard(context);
    do {
      BACKENDS_ASSIGN_OR_RETURN(
          auto page, ListOnePage(context, full_prefix, "", start_after, token,
                                 max_keys, guard));
      std::erase_if(page.objects, [&](const s3::ListedObject& object) {
        return !object.key.starts_with(full_prefix);
      });
      BACKENDS_ASSIGN_OR_RETURN(max_keys, each(page.objects));
      token = page.truncated ? page.next_token : std::string();
      if (!token.empty() && max_keys == 0) return true;
    } while (!token.empty());
    return false;
  }

  // The objects under `full_prefix` after `start_after` (from the first
  // when empty), page by page, up to `limit`; `more` (if given) says
  // whether the limit cut the listing short.
  Result<std::vector<s3::ListedObject>> ListObjects(
      std::string_view operation, const std::string& full_prefix,
      const std::string& start_after = "", std::size_t limit = kNoLimit,
      bool* more = nullptr) {
    std::vector<s3::ListedObject> out;
    BACKENDS_ASSIGN_OR_RETURN(
        bool cut,
        WalkListing(operation, full_prefix, start_after, limit,
                    [&](std::vector<s3::ListedObject>& objects)
                        -> Result<std::size_t> {
                      for (auto& object : objects) {
                        out.push_back(std::move(object));
                      }
                      return limit - std::min(limit, out.size());
                    }));
    if (more != nullptr) *more = cut;
    return out;
  }

  Result<bool> ReadDelete(const S3Client::Request& request,
                          const HttpResponse& response,
                          const std::string& context) {
    // 404: another client removed it after our HEAD; it existed.
    if (response.status == 204 || response.status == 200 ||
        response.status == 404) {
      return true;
    }
    return Diagnose(request, response, context);
  }

  // The PUT of dump() and put(), without conditions; a gzipped body is
  // kept in `compressed`, which must outlive the request.
  Result<S3Client::Request> PutRequest(std::string_view key,
                                       std::string_view value,
                                       const S3PutOptions& put,
                                       std::string& compressed) const {
    BACKENDS_RETURN_IF_ERROR(CheckKey("dump", key));
    s3::PutPlan plan = s3::PlanPut(options_, key, put);
    S3Client::Request request{.method = "PUT", .key = ObjectKey(key)};
    request.headers = std::move(plan.headers);
    request.body = value;
    if (plan.gzip) {
      BACKENDS_ASSIGN_OR_RETURN(compressed, s3::GzipCompress(value));
      request.body = compressed;
      request.headers.emplace_back("Content-Encoding", "gzip");
      request.headers.emplace_back(std::string(kSizeHeader),
                                   std::to_string(value.size()));
    }
    return request;
  }

  // One DeleteObjects request of clear(); its XML is kept in `body`.
  Result<S3Client::Request> DeleteObjectsRequest(
      const std::vector<std::string>& keys, std::string& body,
      std::string& context) const {
    context = "clear (" + std::to_string(keys.size()) + " keys from " +
              QuoteKey(keys.front()) + ")";
    body = s3::BuildDeleteObjectsXml(keys);
    S3Client::Request request{.method = "POST"};
    request.query = {{"delete", ""}};
    request.headers = {{"Content-Type", "application/xml"},
                       {"Content-MD5", s3::ContentMd5(body)}};
    request.body = body;
    return request;
  }

  Status ReadDeleteObjects(const S3Client::Request& request,
                           const HttpResponse& response,
                           const std::string& context) {
    if (response.status != 200) return Diagnose(request, response, context);
    BACKENDS_ASSIGN_OR_RETURN(
        auto failures, s3::ParseDeleteObjectsResult(response.body, context));
    for (const auto& failure : failures) {
      if (failure.code == "NoSuchKey") continue;  // Gone already: fine.
      s3::S3ErrorInfo info{
          .http_status = 200, .code = failure.code, .message = failure.message};
      // A per-key failure inside a 200 answer: map by its code.
      info.http_status = failure.code == "AccessDenied" ? 403 : 500;
      return s3::S3Error("clear " + QuoteKey(failure.key), "POST ?delete",
                         info);
    }
    return Status::OK();
  }

  Status PutAcl(std::string_view operation, std::string_view key,
                std::string_view acl) {
    BACKENDS_RETURN_IF_ERROR(CheckKey(operation, key));
    const std::string context = Context(operation, key);
    S3Client::Request request{.method = "PUT", .key = ObjectKey(key)};
    request.query = {{"acl", ""}};
    request.headers = {{"x-amz-acl", std::string(acl)}};
    BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                              client_->Send(request, context));
    if (response.status == 200) return Status::OK();
    auto info = s3::ParseS3Error(response.status, response.body);
    if (info.code == "NoSuchKey") {
      return FailedPreconditionError(context + ": no such key");
    }
    return Diagnose(request, response, context);
  }

  // The streaming calls (s3_stream.cc) send through the same client.
  s3::S3Client* stream_client() override { return client_.get(); }

  const S3Options options_;
  const bool endpoint_is_default_;
  const std::unique_ptr<S3Client> client_;
};

}  // namespace

Result<std::unique_ptr<S3Backend>> S3Backend::Open(S3Options options) {
  if (options.bucket.empty()) {
    return InvalidArgumentError("open S3 store: no bucket given");
  }
  if (options.connections == 0 || options.retry.max_attempts < 1) {
    return InvalidArgumentError(
        "open bucket \"" + options.bucket +
        "\": connections and retry.max_attempts must be at least 1");
  }
  BACKENDS_ASSIGN_OR_RETURN(Resolved resolved, Resolve(options));
  options.prefix = s3::FolderPrefix(options.prefix);
  // Secrets live in the credentials provider only, never in options().
  options.access_key_id.clear();
  options.secret_access_key.clear();
  options.session_token.clear();
  options.region = resolved.config.region;
  options.endpoint = resolved.config.endpoint;
  options.ca_bundle = resolved.config.ca_bundle;
  if (!resolved.config.endpoint_is_default) {
    // Printed by url(): custom endpoints name their addressing explicitly.
    options.addressing = resolved.config.path_style
                             ? S3Addressing::kPathStyle
                             : S3Addressing::kVirtualHosted;
  }
  auto provider = resolved.credentials;
  auto client = std::make_unique<S3Client>(
      std::move(resolved.endpoint),
      [provider] { return provider->GetCredentials(); },
      s3::NewCurlTransport(std::move(resolved.transport)),
      options.clock ? options.clock : DefaultClock(), options.retry,
      options.min_transfer_rate);
  auto store = std::make_unique<S3BackendImpl>(
      std::move(options), resolved.config.endpoint_is_default,
      std::move(client));
  if (store->options().check_bucket) {
    BACKENDS_RETURN_IF_ERROR(store->CheckBucket());
  }
  return std::unique_ptr<S3Backend>(std::move(store));
}

Result<S3JsonBackend> S3JsonBackend::Open(S3Options options,
                                          JsonFormat format) {
  options.content_type = "application/json";
  BACKENDS_ASSIGN_OR_RETURN(auto store, S3Backend::Open(std::move(options)));
  return S3JsonBackend(std::move(store), JsonCodec{format});
}

Result<S3RawBackend> S3RawBackend::Open(S3Options options) {
  BACKENDS_ASSIGN_OR_RETURN(auto store, S3Backend::Open(std::move(options)));
  return S3RawBackend(std::move(store), RawCodec{});
}

Result<std::optional<std::string>> S3RawBackend::load_stored(
    std::string_view key) const {
  BACKENDS_ASSIGN_OR_RETURN(auto object, s3().load_object(key, false));
  if (!object) return std::optional<std::string>();
  return std::optional<std::string>(std::move(object->body));
}

}  // namespace backends
