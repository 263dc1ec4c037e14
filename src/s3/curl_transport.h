#pragma once

// HTTP/1.1 for the S3 client, on libcurl with keep-alive.
//
// The curl transport is one transfer engine: a libcurl multi handle driven
// by one event loop thread that the transport owns. Every request in memory
// (the body is HttpRequest::body, the answer lands in HttpResponse::body)
// goes through it: Start() hands a request to the loop and returns at once,
// Send() is Start() and a wait. A batch (NewBatch) borrows the multi
// handle instead: its own thread drives the transfers while the loop thread
// waits, so a batch of N requests keeps N transfers in flight with no
// hand-off between threads per request. All requests share the multi
// handle's connection cache (keep-alive). Requests are sent
// exactly as given: the path is not normalised (CURLOPT_PATH_AS_IS:
// `a/../b` is a key), no `Expect: 100-continue`, no Accept-Encoding (stored
// gzip bytes arrive as stored), no redirects followed.
//
// Large bodies stream instead of living in memory: while a ScopedBodyStreams
// is alive on a thread, that thread's Send() reads the body from a
// positional source and hands a successful answer's body to a sink (see
// BodyStreams). Those callbacks may block (a file, a user's stream), so a
// streamed request does not enter the loop: it runs on the calling thread
// with its own pooled handle (curl_easy_perform), and its callbacks run on
// that thread, never on the loop.
//
// Thread safety: a transport is safe for concurrent use.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/status.h"

namespace backends::s3 {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "PUT", "POST", "DELETE"
  std::string url;     // scheme://host[:port]/path?query, already encoded
  HttpHeaders headers;
  std::string_view body;  // sent for PUT and POST; not owned
  /// Bytes the request is known to move besides its body (e.g. the object
  /// a CompleteMultipartUpload assembles), for its deadline.
  std::uint64_t expected_bytes = 0;
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // names lower-cased, values trimmed, in order
  std::string body;

  /// The value of header `lower_name`, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct TransportOptions {
  /// Verify the server's TLS certificate and host name.
  bool verify_tls = true;
  /// PEM file of trusted certificates; empty: the system's default. Only
  /// used for https URLs (plain http ignores it).
  std::string ca_bundle;
  std::chrono::milliseconds connect_timeout{10'000};
  /// Each request's deadline: it fails (kDeadlineExceeded) once it has run
  /// for request_timeout + B / min_transfer_rate, B being the body bytes
  /// sent and received so far, or the bytes it is known to send (its body,
  /// HttpRequest::expected_bytes) if more. Header bytes do not count, so
  /// dribbled headers get request_timeout alone. Zero: no deadline (only
  /// `stall_timeout`).
  std::chrono::milliseconds request_timeout{0};
  /// Bytes per second; zero: request_timeout bounds every request whatever
  /// its size.
  std::uint64_t min_transfer_rate = 0;
  /// Abort a transfer that moves less than one byte per second for this
  /// long.
  std::chrono::seconds stall_timeout{60};
  /// Idle handles kept for reuse, and connections the loop keeps open.
  std::size_t max_idle_handles = 16;
};

/// Streaming bodies for the requests one thread sends (bound with
/// ScopedBodyStreams). Callbacks run on the sending thread, during Send
/// (never on the transport's loop thread), so they may block.
struct BodyStreams {
  /// Reads up to `n` bytes of the request body at `offset` into `buffer`
  /// and returns how many it read (0 only at the end). Positional because
  /// curl may rewind to resend a body. When set, PUT and POST send
  /// `upload_size` bytes from it instead of HttpRequest::body; an error
  /// aborts the transfer and Send returns it; a source that ends early is
  /// kDataLoss.
  std::function<Result<std::size_t>(std::uint64_t offset, char* buffer,
                                    std::size_t n)>
      source{};
  std::uint64_t upload_size = 0;
  /// Receives the body of a 2xx answer, in order, in chunks, instead of
  /// HttpResponse::body (other answers, i.e. error documents, still land in
  /// HttpResponse::body). An error aborts the transfer and Send returns it.
  std::function<Status(std::string_view chunk)> sink{};
  /// With `sink`: called with the status and headers of a 2xx answer
  /// before its first body byte reaches the sink (not at all for an empty
  /// body), to check them; an error aborts the transfer and Send returns it.
  std::function<Status(long status, const HttpHeaders& headers)> on_answer{};
  /// Bytes handed to `sink` by the last Send (set even when Send fails
  /// mid-body, so the caller can resume from there).
  std::uint64_t delivered = 0;
};

/// Binds `streams` to the requests the current thread sends through any
/// curl transport until destruction. Not nestable.
class ScopedBodyStreams {
 public:
  explicit ScopedBodyStreams(BodyStreams* streams);
  ~ScopedBodyStreams();
  ScopedBodyStreams(const ScopedBodyStreams&) = delete;
  ScopedBodyStreams& operator=(const ScopedBodyStreams&) = delete;
};

/// Called once with the outcome of a started request.
using HttpDone = std::function<void(Result<HttpResponse>)>;

/// The requests of one batch (HttpTransport::NewBatch), started and
/// collected by the one thread that owns the batch.
class HttpBatch {
 public:
  /// Finished requests: the tag given to Start, and the outcome.
  using Finished = std::vector<std::pair<std::size_t, Result<HttpResponse>>>;
  virtual ~HttpBatch() = default;
  /// Starts `request` under `tag`. `request` and `context` must stay valid
  /// until Wait hands back its outcome.
  virtual void Start(const HttpRequest& request, std::string_view context,
                     std::size_t tag) = 0;
  /// Moves the started requests along until at least one has finished, or
  /// `until` has passed, and appends the finished ones to `finished`.
  virtual void Wait(std::chrono::steady_clock::time_point until,
                    Finished& finished) = 0;
};

/// Sends HTTP requests and returns the answers, whatever their status.
/// Errors are failures below HTTP only (see CurlError in s3_errors.h):
/// kUnavailable, kDeadlineExceeded, ...; `context` and the method name them.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// Sends `request` and waits for its answer.
  virtual Result<HttpResponse> Send(const HttpRequest& request,
                                    std::string_view context) = 0;
  /// Starts `request` and returns; `done` is called exactly once with the
  /// outcome, on any thread (the curl transport: its loop thread, so `done`
  /// must be quick and must not block). `request.body` and `context` must
  /// stay valid until then. Destroying the transport calls `done` with
  /// kCancelled for requests still in flight. Bound BodyStreams are not
  /// used. The default calls Send() and then `done`, on this thread.
  virtual void Start(const HttpRequest& request, std::string_view context,
                     HttpDone done) {
    done(Send(request, context));
  }
  /// A batch driven from the calling thread. The default collects Start()'s
  /// callbacks through a queue; the curl transport's caller drives the
  /// transfers itself (see NewCurlTransport).
  virtual std::unique_ptr<HttpBatch> NewBatch();
};

/// The multi-loop transport (see the top of this file). Its loop thread
/// starts here and stops (joined) at destruction. While a batch (NewBatch)
/// runs, its thread drives the multi handle itself, the loop thread parked,
/// so a batch's requests never change threads; requests other threads
/// start meanwhile are driven by the batch's thread too. One batch at a
/// time drives; a concurrent one goes through the loop (Start).
std::unique_ptr<HttpTransport> NewCurlTransport(TransportOptions options);

/// Calls curl_global_init exactly once per process (thread-safe).
void EnsureCurlGlobalInit();

}  // namespace backends::s3
