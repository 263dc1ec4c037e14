#pragma once

// The S3 store (AWS S3 and S3-compatible servers: Ceph radosgw, MinIO, ...),
// and the original library's S3JsonBackend and S3RawBackend.
//
//   backends::S3Options options{.bucket = "my-bucket", .prefix = "app/"};
//   BACKENDS_ASSIGN_OR_RETURN(auto store,
//   backends::S3JsonBackend::Open(options));
//   BACKENDS_RETURN_IF_ERROR(store.dump("users/42", {{"name", "Ada"}}));
//   std::string link = store.url("users/42");  // https public URL
//
// Layout: the prefix is a folder. The value of key K is the object
// PREFIX/K (one "/" between them, whether or not PREFIX ends with one), or
// K itself when the prefix is empty (the original's layout). Keys are not
// normalised: `a//b`, `./x`, `x/../y` and `/x` (the object PREFIX//x) are
// distinct keys. Keys must pass ValidateKey (backend.h); the object key
// must be at most 1024 bytes (S3's limit).
//
// Semantics of the Backend operations:
//   load      GET; a missing object is std::nullopt.
//   dump      PUT (S3 PUTs are atomic: a reader sees the old or new value).
//   remove    HEAD, then DELETE if the object exists. S3 DELETE answers 204
//             whether or not the object existed, so the answer "existed"
//             comes from the HEAD: if another client removes the key between
//             the two requests, both callers may get true.
//   contains  HEAD.   stat  HEAD (size, Last-Modified).
//   list      ListObjectsV2 on PREFIX/ + prefix, following continuation
//             tokens (no 1000-key limit); PREFIX/ is stripped from the keys.
//   clear     list, then DeleteObjects in batches of up to 1000 keys.
//
// Errors carry the HTTP status, S3 error code and message:
//   kPermissionDenied  403 AccessDenied (and other 403s)
//   kUnauthenticated   InvalidAccessKeyId, SignatureDoesNotMatch, expired
//                      or missing credentials
//   kNotFound          the bucket does not exist (NoSuchBucket)
//   kUnavailable       5xx, SlowDown, network failures (retryable)
//   kDeadlineExceeded  timeouts, a request past its deadline (see
//                      S3Options::request_timeout) (retryable)
//   kDataLoss          a listing whose pages repeat a continuation token,
//                      go back in key order or never advance (a server
//                      fault), a gzip body that does not decode
//   kFailedPrecondition  make_public/make_private on a bucket with ACLs
//                      disabled (AccessControlListNotSupported), a wrong
//                      region that could not be corrected
//
// Configuration, from S3Options first and the standard AWS places second
// (never hard-coded, never printed): region from AWS_REGION,
// AWS_DEFAULT_REGION, the profile, else us-east-1 (corrected from the
// server's x-amz-bucket-region answer when wrong); endpoint from
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS; CA bundle from
// AWS_CA_BUNDLE (https only: plain-http endpoints work while it is set);
// credentials from the standard chain (environment, shared files, web
// identity, container, EC2 instance metadata).
//
// Thread safety: every class here is safe for concurrent use. A store owns
// one transfer engine: a thread that drives all its requests in flight
// over one pool of keep-alive HTTP connections. A call waits on its own
// thread; a batch (load_many, dump_many, remove_many, items, clear) puts
// up to `connections` requests in flight at once from the calling thread,
// so it needs no threads of its own.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/clock.h"
#include "backends/open.h"
#include "backends/status.h"
#include "backends/view.h"

namespace backends {

/// How requests name the bucket.
enum class S3Addressing {
  /// Path style (http://host/BUCKET/KEY) for custom endpoints and IP
  /// addresses; virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY)
  /// on AWS, unless the bucket name has dots (TLS certificates do not cover
  /// them), then path style.
  kAuto,
  kPathStyle,      ///< Always http://host/BUCKET/KEY.
  kVirtualHosted,  ///< Always BUCKET.host/KEY.
};

// ---- Retries, timeouts and parallelism --------------------------------------

/// How S3 requests are retried. A request is repeated after a connection
/// failure, reset or timeout (including a stalled transfer), or an answer of
/// 500, 502, 503 (SlowDown), 504, 429 or 400 RequestTimeout, and only when
/// it is safe to repeat: GET, HEAD, DELETE, PUT of a whole in-memory body
/// (dump, put, ACL changes), a streamed PUT (a multipart part, dump_file's
/// single PUT: resent from its first byte), the CopyObject that records a
/// gzip stream's size, and POST ?delete (DeleteObjects, used by clear).
/// Other POSTs (multipart create/complete) are sent once. Each attempt is
/// signed afresh. Waits are exponential with full jitter: attempt n (from
/// 1) waits a uniformly random time in [0, min(max_backoff,
/// base_backoff * 2^(n-1))]. A request gives up when max_attempts are used
/// or the next wait would end past the budget (counted from the first
/// attempt); the error then keeps the last cause's code (kUnavailable or
/// kDeadlineExceeded) and says how many attempts were made.
///
/// The budget scales like a request's deadline (S3Options::request_timeout):
/// `budget` + B / S3Options::min_transfer_rate, B being the bytes the
/// request moves (for a streamed download, the bytes delivered so far; a
/// download is resumed only within it). No attempt starts past it, and each
/// attempt has its own deadline, so a request with its retries ends within
/// the budget plus one attempt's deadline: about 2.5 min by default for a
/// request that moves nothing.
struct S3RetryOptions {
  /// Attempts per request, the first included; 1 disables retries.
  int max_attempts = 5;
  /// Time in which attempts may start, plus bytes / min_transfer_rate.
  std::chrono::milliseconds budget{120'000};
  /// The wait before a retry: random ("full jitter") up to base_backoff x
  /// 2^(retry - 1), at most max_backoff.
  ///@{
  std::chrono::milliseconds base_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  ///@}
  /// Test hooks. `sleep` replaces std::this_thread::sleep_for between
  /// attempts; `now` replaces std::chrono::steady_clock::now for the budget.
  /// Both must be safe to call from many threads.
  ///@{
  std::function<void(std::chrono::milliseconds)> sleep{};
  std::function<std::chrono::steady_clock::time_point()> now{};
  ///@}
};

// ---- Streaming large objects ------------------------------------------------

/// How the streaming calls (dump_file, dump_stream, load_to_file,
/// load_stream of S3Backend) move large objects. Memory stays bounded: about
/// parallel_parts x part_size for dump_stream (parts are buffered), a few
/// hundred KiB per connection otherwise.
struct S3TransferOptions {
  /// Objects larger than this are uploaded in parts (multipart upload);
  /// smaller ones with one streamed PUT.
  std::uint64_t multipart_threshold = 8ull << 20;
  /// Part size, at least 5 MiB (S3's minimum). For files it grows (whole
  /// MiB) so an object fits in 10,000 parts; for dump_stream, whose size is
  /// unknown, it doubles every 1,000 parts.
  std::uint64_t part_size = 8ull << 20;
  /// Parts uploaded, or ranges downloaded, at once; at least 1.
  std::size_t parallel_parts = 4;
  /// load_to_file fetches objects larger than this in ranged GETs of this
  /// size, parallel_parts at a time.
  std::uint64_t download_part_size = 8ull << 20;
  /// A GET that fails mid-body is resumed (Range + If-Match) up to this
  /// many times in a row without progress, and only within the retry
  /// budget (S3RetryOptions).
  int resume_attempts = 4;
  /// S3Backend::copy_from copies objects up to this size in one CopyObject
  /// and larger ones in parts of part_size (UploadPartCopy). Values above
  /// 5 GiB (S3's CopyObject limit) count as 5 GiB.
  std::uint64_t copy_threshold = 5ull << 30;
};

namespace s3 {
class S3Client;
}  // namespace s3

/// How S3Backend::Open reaches a bucket and writes objects; FromUrl makes
/// one from an s3:// URL. Empty fields take the AWS defaults named.
struct S3Options {
  /// REQUIRED: the bucket.
  std::string bucket{};
  /// The folder of the store's objects: key K is the object "prefix/K"
  /// ("app" and "app/" are the same folder), K itself when empty (the
  /// bucket's root). list() strips "prefix/". Open() stores it as the
  /// folder's key prefix, ending with "/" ("app/"), in options().
  std::string prefix{};
  /// Empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else
  /// "us-east-1".
  std::string region{};
  /// "http://127.0.0.1:7480" or "https://s3.example.com". Empty:
  /// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS.
  std::string endpoint{};
  /// Virtual-hosted or path-style requests (see S3Addressing).
  S3Addressing addressing = S3Addressing::kAuto;

  /// Verify TLS certificates (https endpoints). Turn off only for tests.
  bool verify_tls = true;
  /// PEM bundle of trusted certificates. Empty: AWS_CA_BUNDLE, else the
  /// system's.
  std::string ca_bundle{};
  /// How long a connection attempt may take (kDeadlineExceeded, retried).
  std::chrono::milliseconds connect_timeout{10'000};
  /// Every request's deadline: a request fails with
  /// kDeadlineExceeded (retried like any timeout) once it has run for
  /// request_timeout + B / min_transfer_rate, B being the body bytes it has
  /// sent and received so far, or its whole upload if more. By default a
  /// request moving nothing gets 30 s, a 1 GiB transfer 30 s + 4.6 h, and a
  /// server dribbling headers or a body a few bytes a second (slowloris) is
  /// cut off after about 30 s. Zero: no deadline (only stall_timeout).
  std::chrono::milliseconds request_timeout{30'000};
  /// Bytes per second a transfer must average after request_timeout (see
  /// above); zero: request_timeout bounds every request whatever its size.
  std::uint64_t min_transfer_rate = 64 << 10;

  /// Credentials profile. Empty: AWS_PROFILE, else "default".
  std::string profile{};
  /// Send unsigned requests (public buckets); no credentials are looked up.
  bool anonymous = false;
  /// Explicit credentials, first in the chain when set. Never printed,
  /// never part of url().
  ///@{
  std::string access_key_id{};
  std::string secret_access_key{};
  std::string session_token{};
  ///@}

  // How dump() writes objects (S3RawBackend's behaviour; per-call
  // overrides: S3PutOptions).

  /// Content-Type of written objects. Empty: guessed from the key's
  /// extension ("application/octet-stream" when unknown).
  std::string content_type{};
  /// Objects of these content types are stored gzipped, with
  /// `Content-Encoding: gzip`, and decoded again by load().
  std::vector<std::string> gzip_types = {"application/javascript", "text/css"};
  /// When set, objects get `Cache-Control: public, max-age=N`.
  std::optional<std::chrono::seconds> cache_age{};
  /// Upload objects with the canned ACL public-read.
  bool public_read = false;

  /// Open() checks that the bucket exists (one HEAD request) and corrects a
  /// wrong region from the answer.
  bool check_bucket = true;

  // ---- Retries, timeouts and parallelism ----
  /// See S3RetryOptions.
  S3RetryOptions retry{};
  /// A transfer that moves no bytes (less than 1 byte/s) for this long is
  /// aborted (kDeadlineExceeded) and retried like a timeout. Whole seconds.
  std::chrono::seconds stall_timeout{60};
  /// Requests a batch operation (load_many, dump_many, remove_many, items,
  /// clear) keeps in flight at once, each on its own keep-alive connection;
  /// at least 1.
  std::size_t connections = 16;

  // ---- Streaming large objects ----
  /// See S3TransferOptions.
  S3TransferOptions transfer{};

  /// Where request signing gets the time from. Null: DefaultClock().
  std::shared_ptr<Clock> clock{};

  /// From s3://BUCKET/PREFIX?region=R&endpoint=E&path_style=1&... with
  /// parameters region, endpoint, path_style (0/1), verify_tls (0/1),
  /// profile, anonymous (0/1), content_type, cache_age (seconds),
  /// public_read (0/1), gzip_types (comma-separated; empty: none),
  /// connect_timeout_ms, request_timeout_ms (0: no deadline),
  /// min_transfer_rate (bytes per second), max_attempts, retry_budget_ms,
  /// check_bucket (0/1), and the transfer parameters connections (1 to
  /// 1024), stall_timeout (seconds, 1 to 86400), part_size (bytes, 5 MiB to
  /// 5 GiB), multipart_threshold (bytes, up to 5 GiB), parallel_parts (1 to
  /// 256), download_part_size (bytes, 1 MiB to 5 GiB). Credentials are
  /// never read from a URL. Errors: kInvalidArgument for another scheme, a
  /// missing bucket, an unknown parameter or a bad value (naming the
  /// parameter and its range).
  static Result<S3Options> FromUrl(const Url& url);
};

/// Per-object overrides for a write; unset fields take the S3Options value.
struct S3PutOptions {
  /// Overrides of S3Options' fields of these names.
  ///@{
  std::optional<std::string> content_type{};
  std::optional<std::chrono::seconds> cache_age{};
  std::optional<bool> public_read{};
  ///@}

  // ---- Conditional writes ----
  /// Create-only (`If-None-Match: *`): the write fails with kAlreadyExists
  /// ("precondition failed") if the key already holds a value.
  bool if_absent = false;
  /// Replace-if-unchanged (`If-Match: ETAG`): the write fails with
  /// kFailedPrecondition ("precondition failed") unless the key holds a
  /// value whose ETag (S3Object::etag, S3PutResult::etag, S3Backend::etag)
  /// equals this one. A missing key fails the same way.
  std::optional<std::string> if_match{};
};

/// What a successful write returns.
struct S3PutResult {
  /// The new object's ETag as the server sent it (quotes included), for a
  /// later if_match. May be empty if the server sent none.
  std::string etag{};
};

/// An object with the headers S3RawBackend cares about.
struct S3Object {
  /// The value (decoded, unless read with load_stored).
  std::string body{};
  /// The Content-Type header.
  std::string content_type{};
  /// "gzip" when stored compressed (whether or not `body` was decoded).
  std::string content_encoding{};
  /// The Cache-Control header; empty when none.
  std::string cache_control{};
  /// The ETag of the stored object (quotes included), for
  /// S3PutOptions::if_match.
  std::string etag{};
};

/// What a presigned URL allows: a GET (kGet) or a PUT (kPut) of its key.
enum class S3PresignMethod { kGet, kPut };

/// A multipart upload begun and neither completed nor aborted: its parts
/// take space (and, on AWS, cost) until it is aborted.
struct S3Upload {
  /// The object key it would create, relative to the store's prefix.
  std::string key{};
  /// S3's id of the upload.
  std::string upload_id{};
  /// When it began (ListMultipartUploads' Initiated), if the server said.
  std::optional<std::chrono::system_clock::time_point> initiated{};
};

/// The S3 byte store. Open it with Open() or OpenBackend("s3://...").
class S3Backend : public Backend {
 public:
  /// Opens the store on `options.bucket`, resolving the region, endpoint and
  /// credentials. With options.check_bucket, HEADs the bucket: kNotFound if
  /// it does not exist, kUnauthenticated for rejected credentials.
  /// Errors: kInvalidArgument for bad options; kUnauthenticated when no
  /// credentials are found (and options.anonymous is false).
  static Result<std::unique_ptr<S3Backend>> Open(S3Options options);

  /// The options as resolved by Open (region, endpoint, addressing filled
  /// in; credentials cleared).
  virtual const S3Options& options() const = 0;

  /// Like dump(), with per-object overrides.
  virtual Status dump(std::string_view key, std::string_view value,
                      const S3PutOptions& put) = 0;
  using Backend::dump;

  /// The object under `key` with its headers, or std::nullopt if there is
  /// none. With `decode`, a gzip-encoded body is decompressed (kDataLoss if
  /// it is not valid gzip); without, `body` holds the stored bytes.
  virtual Result<std::optional<S3Object>> load_object(std::string_view key,
                                                      bool decode) = 0;

  /// The public https URL of `key` (prefix included), key percent-encoded:
  /// https://BUCKET.s3.REGION.amazonaws.com/KEY on AWS, the endpoint's
  /// path-style URL (ENDPOINT/BUCKET/KEY) for custom endpoints. The URL
  /// works for anonymous readers only if the object is public.
  virtual std::string public_url(std::string_view key) const = 0;
  /// The public URL of `key` in `bucket` (no prefix added).
  virtual std::string public_url(std::string_view bucket,
                                 std::string_view key) const = 0;

  /// Makes `key` readable by anyone (canned ACL public-read) or by the
  /// owner only (private). Errors: kFailedPrecondition when the bucket has
  /// ACLs disabled (use presign() instead); the usual S3 errors. A missing
  /// key is an error here (kFailedPrecondition, "no such key").
  ///@{
  virtual Status make_public(std::string_view key) = 0;
  virtual Status make_private(std::string_view key) = 0;
  ///@}

  /// A presigned URL that lets anyone holding it GET (or PUT) `key` for
  /// `expiry` (1 s to 7 days) with plain curl and no credentials. The key
  /// need not exist. Treat the URL as a secret. Errors: kInvalidArgument for
  /// a bad key or expiry; kUnauthenticated without credentials.
  virtual Result<std::string> presign(
      std::string_view key, std::chrono::seconds expiry,
      S3PresignMethod method = S3PresignMethod::kGet) = 0;

  // ---- Conditional writes and batches ----

  /// Like dump(key, value, put), returning the new ETag. With
  /// put.if_absent / put.if_match the write is conditional: a failed
  /// condition is kAlreadyExists (if_absent: the key exists) or
  /// kFailedPrecondition (if_match: the ETag differs or the key is gone),
  /// both saying "precondition failed", and nothing is written.
  /// Compare-and-swap: load_object() (or etag()), compute, then put() with
  /// if_match = the ETag read; on kFailedPrecondition start over.
  virtual Result<S3PutResult> put(std::string_view key, std::string_view value,
                                  const S3PutOptions& put) = 0;
  /// The ETag of `key` (one HEAD), or std::nullopt if it does not exist.
  virtual Result<std::optional<std::string>> etag(std::string_view key) = 0;

  /// Batches: each keeps up to options().connections requests in flight on
  /// the store's transfer engine, from the calling thread (no thread per
  /// request), retries each request on its own as a single call would
  /// (same S3RetryOptions: attempts and budget per request), and returns
  /// one result per input, in input order; one key's failure does not stop
  /// the others. items() and clear() use the same engine: items() lists,
  /// then GETs in parallel (a key removed meanwhile is left out); clear()
  /// sends its DeleteObjects batches in parallel.
  ///@{
  virtual std::vector<Result<std::optional<std::string>>> load_many(
      std::span<const std::string> keys) = 0;
  virtual std::vector<Status> dump_many(
      std::span<const std::pair<std::string, std::string>> items) = 0;
  ///@}
  /// Whether each key existed (a HEAD, then a DELETE, per key).
  virtual std::vector<Result<bool>> remove_many(
      std::span<const std::string> keys) = 0;

  // ---- Server-side copy and bucket housekeeping ----

  /// Copies the value of `source_key` in `source` to `key` in this store
  /// inside the server: no value bytes pass through the client. `source`
  /// is an S3 store on the same endpoint (this bucket or another, any
  /// prefix; it may be this store), read with this store's credentials.
  /// The copy keeps the stored bytes (gzipped ones stay gzipped) with
  /// their Content-Type, Content-Encoding, Cache-Control,
  /// Content-Disposition and user metadata (x-amz-meta-*, such as a gzip
  /// object's uncompressed size); it is private, or public-read with
  /// options().public_read. Objects up to options().transfer.copy_threshold
  /// take one CopyObject; larger ones a multipart upload whose parts
  /// (options().transfer.part_size, grown so the object fits in 10,000
  /// parts) are UploadPartCopy ranges, parallel_parts in flight at once,
  /// aborted on any failure (no parts are left behind). Every request
  /// carries the source's ETag (x-amz-copy-source-if-match), so a source
  /// replaced during the copy fails it instead of mixing two versions; for
  /// servers that ignore that header (radosgw 16.2) a copy in parts checks
  /// the ETag again before completing, and a CopyObject copies whichever
  /// whole version the source holds when it runs.
  /// Returns true once copied, false (nothing written) if `source_key`
  /// does not exist. Errors: kInvalidArgument for a bad key or a source on
  /// another endpoint; kFailedPrecondition if the source changed during
  /// the copy; the usual S3 errors (kPermissionDenied when these
  /// credentials may not read the source).
  virtual Result<bool> copy_from(S3Backend& source, std::string_view source_key,
                                 std::string_view key) = 0;

  /// Creates the store's bucket (CreateBucket) in options().region, with a
  /// LocationConstraint naming it unless it is us-east-1 (where S3 takes
  /// none). Open the store with check_bucket = false to call this on a
  /// bucket that does not exist yet. Errors: kAlreadyExists if the bucket
  /// exists (yours: BucketAlreadyOwnedByYou; another account's:
  /// BucketAlreadyExists); kInvalidArgument for a name S3 refuses
  /// (InvalidBucketName); the usual S3 errors.
  virtual Status create_bucket() = 0;

  /// The unfinished multipart uploads of keys starting with `prefix` in
  /// this store (ListMultipartUploads under options().prefix + `prefix`,
  /// every page), in key order, then by start. An empty list if there are
  /// none. Errors: the usual S3 errors; kDataLoss for an answer that does
  /// not parse or pages that do not advance.
  virtual Result<std::vector<S3Upload>> list_uploads(
      std::string_view prefix = "") = 0;

  /// Aborts `upload` (AbortMultipartUpload), deleting its parts. Returns
  /// true if it was aborted, false if no such upload exists (any more). It
  /// is not an error if another client aborted or completed it meanwhile.
  virtual Result<bool> abort_upload(const S3Upload& upload) = 0;

  // ---- Streaming large objects ----
  // These never hold a whole object in memory. They follow the content
  // rules of dump(): the content type from S3PutOptions, the options or the
  // key's extension, and the gzip types stored gzipped (Content-Encoding:
  // gzip, x-amz-meta-uncompressed-size), compressed while uploading in about
  // 2 MiB; reads decode such objects while downloading. Uploads above
  // options().transfer.multipart_threshold (after compression) use a
  // multipart upload, aborted on any failure (no parts are left behind); a
  // reader sees the old object or the new one. When a multipart upload's
  // uncompressed size was not known when it started, the completed object
  // is copied onto itself to record it (objects up to 5 GiB stored).
  // Every request, parts included, is retried as options().retry says.
  // Downloads resume a GET that fails mid-body
  // from the byte reached (Range + If-Match on the ETag): if the object
  // changed meanwhile they fail with kFailedPrecondition ("changed during
  // the download") rather than mix two versions. An answer without an ETag
  // is read as is; only a resume (or the further ranged GETs of a large
  // load_to_file) needs one, and then fails saying the server sent none.

  /// Uploads the file at `path` as `key`. Errors: kNotFound / kPermission-
  /// Denied for an unreadable file, kDataLoss if it shrinks while read, the
  /// usual S3 errors.
  Status dump_file(std::string_view key, const std::string& path,
                   const S3PutOptions& put = {});
  /// Writes the value of `key` to the file `path`: to a temporary file next
  /// to it, then renamed over it, so a failed download leaves `path` as it
  /// was. Large objects come in parallel ranged GETs (gzip-encoded ones in
  /// order, decoded). Returns false (and leaves `path` alone) if there is no
  /// such key. Errors: kDataLoss for a gzip body that does not decode.
  Result<bool> load_to_file(std::string_view key, const std::string& path);
  /// Backend::dump_stream without holding the value: buffered parts of a
  /// multipart upload above the threshold (source.size(), when known,
  /// chooses the part size, and is sent as the uncompressed size of a gzip
  /// type), else one PUT.
  Status dump_stream(std::string_view key, ByteSource& source) override;
  /// The same with per-object overrides.
  Status dump_stream(std::string_view key, ByteSource& source,
                     const S3PutOptions& put);
  /// Backend::load_stream: one GET, handed to `sink` as it arrives (resumed
  /// after a failure mid-body as described above), decoded on the way when
  /// stored gzipped. Errors: kDataLoss for a gzip body that does not decode
  /// (the sink may have received the bytes decoded before the fault).
  Result<bool> load_stream(std::string_view key, ByteSink& sink) override;

 protected:
  /// The request client of this store, for the streaming calls. The default
  /// (nullptr) makes them build their own client per call from options()
  /// and the standard credentials chain (explicit credentials, cleared from
  /// options(), are then not seen); implementations override it.
  virtual s3::S3Client* stream_client() { return nullptr; }
};

/// A typed view on an S3Backend with the original's extras.
template <typename Codec>
class S3TypedBackend : public TypedBackend<Codec> {
 public:
  /// url() with no argument is the store's URL (s3://BUCKET/PREFIX?...).
  using TypedBackend<Codec>::url;
  /// The public https URL of `key`; see S3Backend::public_url.
  std::string url(std::string_view key) const { return s3().public_url(key); }
  /// The public https URL of `key` in `bucket`.
  std::string url(std::string_view bucket, std::string_view key) const {
    return s3().public_url(bucket, key);
  }
  /// See S3Backend::make_public.
  Status make_public(std::string_view key) const {
    return s3().make_public(key);
  }
  /// See S3Backend::make_private.
  Status make_private(std::string_view key) const {
    return s3().make_private(key);
  }
  /// See S3Backend::presign.
  Result<std::string> presign(
      std::string_view key, std::chrono::seconds expiry,
      S3PresignMethod method = S3PresignMethod::kGet) const {
    return s3().presign(key, expiry, method);
  }
  /// The byte store underneath.
  S3Backend& s3() const {
    return static_cast<S3Backend&>(TypedBackend<Codec>::store());
  }

 protected:
  /// A view over `s3` (owned; REQUIRES: not null).
  S3TypedBackend(std::unique_ptr<S3Backend> s3, Codec codec)
      : TypedBackend<Codec>(std::move(s3), std::move(codec)) {}
};

/// The original's S3JsonBackend: JSON values in the original's format,
/// stored with `Content-Type: application/json`.
class S3JsonBackend : public S3TypedBackend<JsonCodec> {
 public:
  /// Opens the bucket (see S3Backend::Open). options.content_type is set to
  /// "application/json".
  static Result<S3JsonBackend> Open(S3Options options, JsonFormat format = {});

 private:
  using S3TypedBackend::S3TypedBackend;
};

/// The original's S3RawBackend: any bytes. Content type given or guessed
/// from the key's extension; application/javascript and text/css (the
/// options' gzip_types) stored gzipped with `Content-Encoding: gzip` on
/// every upload path (dump, dump_stream, dump_file) and decoded on load;
/// `Cache-Control: public, max-age=N` with a cache age; optional public-read at
/// upload.
class S3RawBackend : public S3TypedBackend<RawCodec> {
 public:
  /// Opens the bucket. Errors: S3Backend::Open's.
  static Result<S3RawBackend> Open(S3Options options);

  using TypedBackend<RawCodec>::dump;
  /// Stores `value` with per-object overrides (content type, cache age,
  /// public-read).
  Status dump(std::string_view key, std::string_view value,
              const S3PutOptions& put) const {
    return s3().dump(key, value, put);
  }
  /// The bytes as stored (still gzipped if they were compressed), or
  /// std::nullopt if there is no such key.
  Result<std::optional<std::string>> load_stored(std::string_view key) const;

 private:
  using S3TypedBackend::S3TypedBackend;
};

}  // namespace backends
