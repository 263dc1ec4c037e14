// The libcurl transport: one multi handle driven by one loop thread (see
// curl_transport.h), and a pool of easy handles, one per request in flight.
//
// Why one loop and not a thread per request: a batch of 128 requests then
// costs at most two threads instead of 128, and every request shares the
// multi handle's connection cache.
//
// Batches: handing each request to the loop thread and each answer back
// cost about three context switches per request, and with them a fifth of
// a batch's CPU (perf: the kernel's task switches). So a batch's thread
// borrows the multi handle: the loop thread parks (one hand-off per batch),
// the batch's thread adds, performs and polls itself, as a plain curl multi
// loop would, and gives the handle back when the batch ends. Whoever drives
// the multi handle owns running_; the hand-over goes through mutex_. Callbacks
// of loop transfers only copy bytes into memory, so they never block the loop;
// streamed bodies, whose callbacks may block, run on their caller's thread
// instead.
//
// curl_easy_reset() between requests clears the options but keeps the
// handle's connection cache, so the next request on the same host reuses
// the open TCP (and TLS) connection. Every option is therefore set again on
// each request, from scratch.
//
// Streaming (BodyStreams): the body bound to the thread is read through the
// source at the offset curl asks for, and a 2xx answer's body goes to the
// sink; the status is known from the status line before the first body
// byte, so error documents are still collected for the error message.
//
// Deadlines (TransportOptions::request_timeout): curl's own timeout is
// fixed when the request starts, but ours grows with the bytes moved, so a
// progress callback checks it; curl calls it at least about once a second
// even when nothing arrives (the stall check keeps a one-second timer).

#include "s3/curl_transport.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "s3/retry.h"
#include "s3/s3_errors.h"

namespace backends::s3 {
namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The streams bound to this thread by ScopedBodyStreams, if any.
thread_local BodyStreams* bound_streams = nullptr;

// Larger transfer buffers for streamed bodies: fewer callbacks per MiB.
constexpr long kStreamBufferBytes = 256 * 1024;

// What the callbacks fill while a transfer runs.
struct Exchange {
  HttpResponse response;
  BodyStreams* streams = nullptr;
  std::uint64_t upload_offset = 0;  // next source offset (streams)
  long status = 0;                  // from the last status line
  bool answered = false;            // on_answer called
  Status callback_error{};          // why a callback aborted the transfer
  std::string_view context;         // names the request in messages
  // The deadline (see OnProgress); grace zero: none.
  std::chrono::steady_clock::time_point start{};
  std::chrono::milliseconds grace{0};
  std::uint64_t min_rate = 0;
  std::uint64_t known_bytes = 0;  // bytes the request will send at least
  std::uint64_t moved = 0;        // when the deadline was missed
  bool deadline_missed = false;
};

std::uint64_t Bytes(curl_off_t n) {
  return n > 0 ? static_cast<std::uint64_t>(n) : 0;
}

int OnProgress(void* user, curl_off_t, curl_off_t downloaded, curl_off_t,
               curl_off_t uploaded) {
  auto* exchange = static_cast<Exchange*>(user);
  const std::uint64_t moved =
      std::max(exchange->known_bytes, Bytes(downloaded) + Bytes(uploaded));
  const auto allowed =
      ScaledDeadline(exchange->grace, exchange->min_rate, moved);
  if (std::chrono::steady_clock::now() - exchange->start <= allowed) return 0;
  exchange->deadline_missed = true;
  exchange->moved = moved;
  return 1;  // curl aborts with CURLE_ABORTED_BY_CALLBACK
}

// "HTTP/1.1 206 Partial Content" -> 206.
long ParseStatusLine(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  long status = 0;
  for (std::size_t i = space + 1; i < line.size() && i < space + 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    status = status * 10 + (line[i] - '0');
  }
  return status;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count,
                     void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new status line (e.g. after an interim 1xx): start over.
    exchange->response.headers.clear();
    exchange->status = ParseStatusLine(line);
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(Trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  std::string value(Trim(line.substr(colon + 1)));
  if (name == "content-length" &&
      (exchange->streams == nullptr || !exchange->streams->sink)) {
    // Reserve once, so a large body is not copied while it grows.
    char* end = nullptr;
    unsigned long long length = std::strtoull(value.c_str(), &end, 10);
    if (end != value.c_str() && length <= (1ull << 31)) {
      exchange->response.body.reserve(static_cast<std::size_t>(length));
    }
  }
  exchange->response.headers.emplace_back(std::move(name), std::move(value));
  return size * count;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count,
                   void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  BodyStreams* streams = exchange->streams;
  if (streams != nullptr && streams->sink && exchange->status >= 200 &&
      exchange->status < 300) {
    if (!exchange->answered && streams->on_answer) {
      exchange->answered = true;
      Status checked =
          streams->on_answer(exchange->status, exchange->response.headers);
      if (!checked.ok()) {
        exchange->callback_error = std::move(checked);
        return 0;
      }
    }
    Status status = streams->sink(std::string_view(data, size * count));
    if (!status.ok()) {
      exchange->callback_error = std::move(status);
      return 0;  // curl aborts with CURLE_WRITE_ERROR
    }
    streams->delivered += size * count;
    return size * count;
  }
  exchange->response.body.append(data, size * count);
  return size * count;
}

std::size_t OnReadStream(char* buffer, std::size_t size, std::size_t count,
                         void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  BodyStreams* streams = exchange->streams;
  const std::uint64_t left = streams->upload_size - exchange->upload_offset;
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(size * count, left));
  if (want == 0) return 0;
  Result<std::size_t> n =
      streams->source(exchange->upload_offset, buffer, want);
  if (!n.ok()) {
    exchange->callback_error = n.status();
    return CURL_READFUNC_ABORT;
  }
  if (*n == 0 || *n > want) {
    exchange->callback_error = DataLossError(
        std::string(exchange->context) + ": the body source ended at byte " +
        std::to_string(exchange->upload_offset) + " of " +
        std::to_string(streams->upload_size));
    return CURL_READFUNC_ABORT;
  }
  exchange->upload_offset += *n;
  return *n;
}

int OnSeekStream(void* user, curl_off_t offset, int origin) {
  auto* exchange = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::uint64_t>(offset) > exchange->streams->upload_size) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  exchange->upload_offset = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// One request on its way: the handle, what its callbacks fill, and whom
// to tell when it ends.
struct Transfer {
  HttpRequest request;
  std::string context;
  CurlPtr handle;
  Exchange exchange;
  SlistPtr headers;
  char error[CURL_ERROR_SIZE] = {0};
  HttpDone done;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options)
      : options_(std::move(options)) {
    EnsureCurlGlobalInit();
    multi_.reset(curl_multi_init());
    if (multi_) {
      curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS,
                        static_cast<long>(options_.max_idle_handles));
      loop_ = std::thread([this] { Loop(); });
    }
  }

  // REQUIRES: no batch of this transport is alive.
  ~CurlTransport() override {
    {
      std::scoped_lock lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (multi_) curl_multi_wakeup(multi_.get());
    if (loop_.joinable()) loop_.join();
  }

  Result<HttpResponse> Send(const HttpRequest& request,
                            std::string_view context) override {
    if (bound_streams != nullptr) return SendHere(request, context);
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<Result<HttpResponse>> outcome;
    Start(request, context, [&](Result<HttpResponse> result) {
      // Notify under the lock: once it is released, this frame may be gone.
      std::scoped_lock lock(mutex);
      outcome.emplace(std::move(result));
      ready.notify_one();
    });
    std::unique_lock lock(mutex);
    ready.wait(lock, [&] { return outcome.has_value(); });
    return std::move(*outcome);
  }

  void Start(const HttpRequest& request, std::string_view context,
             HttpDone done) override {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = request;
    transfer->context = std::string(context);
    transfer->done = std::move(done);
    Status prepared = Prepare(*transfer, nullptr);
    if (!prepared.ok()) {
      transfer->done(std::move(prepared));
      return;
    }
    bool wake = false;
    {
      std::scoped_lock lock(mutex_);
      if (!stopping_ && multi_) {
        // One wake-up per batch of started transfers: the loop (or the
        // batch driving the multi handle) takes them all at once.
        wake = pending_.empty();
        pending_.push_back(std::move(transfer));
      }
    }
    if (transfer) {
      transfer->done(UnavailableError(transfer->context + ": s3 " +
                                      request.method +
                                      ": the transport is shut down"));
      return;
    }
    if (wake) {
      wake_.notify_one();
      curl_multi_wakeup(multi_.get());
    }
  }

  std::unique_ptr<HttpBatch> NewBatch() override {
    if (Borrow()) return std::make_unique<DrivenBatch>(*this);
    return HttpTransport::NewBatch();  // another batch drives: queue
  }

 private:
  // A batch whose thread drives the multi handle (see the top of the file).
  class DrivenBatch final : public HttpBatch {
   public:
    explicit DrivenBatch(CurlTransport& transport) : transport_(transport) {}
    ~DrivenBatch() override {
      Finished rest;
      while (in_flight_ > 0) {
        Wait(std::chrono::steady_clock::time_point::max(), rest);
      }
      transport_.GiveBack();
    }
    DrivenBatch(const DrivenBatch&) = delete;
    DrivenBatch& operator=(const DrivenBatch&) = delete;

    void Start(const HttpRequest& request, std::string_view context,
               std::size_t tag) override {
      auto transfer = std::make_unique<Transfer>();
      transfer->request = request;
      transfer->context = std::string(context);
      // Runs on this thread, inside Perform().
      transfer->done = [this, tag](Result<HttpResponse> outcome) {
        done_.emplace_back(tag, std::move(outcome));
      };
      ++in_flight_;
      Status prepared = transport_.Prepare(*transfer, nullptr);
      if (!prepared.ok()) {
        Complete(*transfer, std::move(prepared));
        return;
      }
      transport_.Add(std::move(transfer));
    }

    void Wait(std::chrono::steady_clock::time_point until,
              Finished& finished) override {
      using std::chrono::milliseconds;
      while (true) {
        transport_.AddPending();
        transport_.Perform();
        if (!done_.empty()) {
          in_flight_ -= done_.size();
          for (auto& outcome : done_) finished.push_back(std::move(outcome));
          done_.clear();
          return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) return;
        // At most a second, as the loop: curl's timers (the stall check).
        const auto wait = until - now < milliseconds(1000)
                              ? std::chrono::ceil<milliseconds>(until - now)
                              : milliseconds(1000);
        curl_multi_poll(transport_.multi_.get(), nullptr, 0,
                        static_cast<int>(wait.count()), nullptr);
      }
    }

   private:
    CurlTransport& transport_;
    std::size_t in_flight_ = 0;
    Finished done_;  // finished in the last Perform()
  };

  // Parks the loop thread so the calling thread can drive the multi
  // handle; false if another batch drives it (or the transport stops).
  bool Borrow() {
    std::unique_lock lock(mutex_);
    if (borrowed_ || stopping_ || !multi_) return false;
    borrowed_ = true;
    wake_.notify_one();
    lock.unlock();
    curl_multi_wakeup(multi_.get());  // out of its poll
    lock.lock();
    parked_.wait(lock, [&] { return loop_parked_; });
    return true;
  }

  void GiveBack() {
    {
      std::scoped_lock lock(mutex_);
      borrowed_ = false;
    }
    wake_.notify_one();
  }

  struct MultiDeleter {
    void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
  };

  // A streamed request, on the calling thread (see curl_transport.h).
  Result<HttpResponse> SendHere(const HttpRequest& request,
                                std::string_view context) {
    Transfer transfer;
    transfer.request = request;
    transfer.context = std::string(context);
    BACKENDS_RETURN_IF_ERROR(Prepare(transfer, bound_streams));
    return Finish(transfer, curl_easy_perform(transfer.handle.get()));
  }

  // Takes a handle and sets every option of the transfer.
  Status Prepare(Transfer& transfer, BodyStreams* streams) {
    Exchange& exchange = transfer.exchange;
    exchange.context = transfer.context;
    exchange.start = std::chrono::steady_clock::now();
    exchange.streams = streams;
    if (streams != nullptr) streams->delivered = 0;
    transfer.handle = Acquire();
    if (!transfer.handle) {
      return InternalError(transfer.context +
                           ": curl_easy_init failed (out of memory?)");
    }
    CURLcode code = Setup(transfer.handle.get(), transfer.request, &exchange,
                          &transfer.headers, transfer.error);
    if (code != CURLE_OK) {
      return CurlError(transfer.context, transfer.request.method, code,
                       transfer.error);
    }
    return Status::OK();
  }

  // The outcome of a finished transfer; gives its handle back if healthy.
  Result<HttpResponse> Finish(Transfer& transfer, CURLcode code) {
    Exchange& exchange = transfer.exchange;
    if (code != CURLE_OK) {
      // A failed handle may hold a broken connection: drop it.
      if (exchange.deadline_missed) {
        return DeadlineError(transfer.request, exchange);
      }
      // Callbacks name the request in their errors themselves.
      if (!exchange.callback_error.ok()) return exchange.callback_error;
      return CurlError(transfer.context, transfer.request.method, code,
                       transfer.error);
    }
    curl_easy_getinfo(transfer.handle.get(), CURLINFO_RESPONSE_CODE,
                      &exchange.response.status);
    Release(std::move(transfer.handle));
    return std::move(exchange.response);
  }

  // The event loop: adds started transfers to the multi handle, drives them,
  // and completes the finished ones; parked while a batch drives instead.
  void Loop() {
    std::vector<std::unique_ptr<Transfer>> adding;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        if (borrowed_) {
          loop_parked_ = true;
          parked_.notify_all();
          wake_.wait(lock, [&] { return stopping_ || !borrowed_; });
          loop_parked_ = false;
        }
        if (running_.empty()) {
          wake_.wait(lock, [&] {
            return stopping_ || borrowed_ || !pending_.empty();
          });
        }
        if (stopping_) break;
        if (borrowed_) continue;
        adding.swap(pending_);
      }
      for (auto& transfer : adding) Add(std::move(transfer));
      adding.clear();
      Perform();
      // Wakes for socket activity, curl's timers (at least once a second:
      // the stall check), or a new transfer or batch (curl_multi_wakeup).
      if (!running_.empty()) {
        curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
      }
    }
    Shutdown();
  }

  // Adds the transfers other threads started (from the driving thread).
  void AddPending() {
    std::vector<std::unique_ptr<Transfer>> adding;
    {
      std::scoped_lock lock(mutex_);
      adding.swap(pending_);
    }
    for (auto& transfer : adding) Add(std::move(transfer));
  }

  // One turn of the multi handle: moves the transfers along and completes
  // the finished ones. Only the thread driving the multi handle calls it.
  void Perform() {
    int active = 0;
    curl_multi_perform(multi_.get(), &active);
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURLcode code = message->data.result;
      auto it = running_.find(message->easy_handle);
      if (it == running_.end()) continue;
      std::unique_ptr<Transfer> transfer = std::move(it->second);
      running_.erase(it);
      curl_multi_remove_handle(multi_.get(), transfer->handle.get());
      Complete(*transfer, Finish(*transfer, code));
    }
  }

  void Add(std::unique_ptr<Transfer> transfer) {
    CURL* handle = transfer->handle.get();
    CURLMcode code = curl_multi_add_handle(multi_.get(), handle);
    if (code != CURLM_OK) {
      Complete(*transfer, InternalError(transfer->context + ": s3 " +
                                        transfer->request.method +
                                        ": curl_multi_add_handle failed: " +
                                        curl_multi_strerror(code)));
      return;
    }
    running_.emplace(handle, std::move(transfer));
  }

  // Fails what is still in flight or queued; the loop has stopped.
  void Shutdown() {
    std::vector<std::unique_ptr<Transfer>> queued;
    {
      std::scoped_lock lock(mutex_);
      queued.swap(pending_);
    }
    for (auto& [handle, transfer] : running_) {
      curl_multi_remove_handle(multi_.get(), handle);
      queued.push_back(std::move(transfer));
    }
    running_.clear();
    for (auto& transfer : queued) {
      Complete(*transfer,
               UnavailableError(transfer->context + ": s3 " +
                                transfer->request.method +
                                ": the transport was shut down mid-request"));
    }
  }

  static void Complete(Transfer& transfer, Result<HttpResponse> outcome) {
    HttpDone done = std::move(transfer.done);
    done(std::move(outcome));
  }

  CURLcode Setup(CURL* h, const HttpRequest& request, Exchange* exchange,
                 SlistPtr* headers, char* error) const {
    curl_easy_reset(h);
    curl_slist* list = nullptr;
    for (const auto& [name, value] : request.headers) {
      // "Name;" sends an empty header; "Name:" would remove it.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      curl_slist* next = curl_slist_append(list, line.c_str());
      if (next == nullptr) {
        curl_slist_free_all(list);
        return CURLE_OUT_OF_MEMORY;
      }
      list = next;
    }
    // Suppress `Expect: 100-continue`: a round trip per PUT for nothing.
    // A PUT sent like a POST (below) would get curl's form Content-Type.
    const bool typed = std::any_of(
        request.headers.begin(), request.headers.end(), [](const auto& header) {
          return header.first.size() == 12 &&
                 strncasecmp(header.first.c_str(), "content-type", 12) == 0;
        });
    std::vector<const char*> removals = {"Expect:"};
    if (request.method == "PUT" && !typed) removals.push_back("Content-Type:");
    for (const char* removal : removals) {
      curl_slist* next = curl_slist_append(list, removal);
      if (next == nullptr) {
        curl_slist_free_all(list);
        return CURLE_OUT_OF_MEMORY;
      }
      list = next;
    }
    headers->reset(list);

    CURLcode c = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (c == CURLE_OK) c = curl_easy_setopt(h, option, value);
    };
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_ERRORBUFFER, error);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_PATH_AS_IS, 1L);
    set(CURLOPT_TCP_NODELAY, 1L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_HTTPHEADER, list);
    set(CURLOPT_HEADERFUNCTION, &OnHeader);
    set(CURLOPT_HEADERDATA, exchange);
    set(CURLOPT_WRITEFUNCTION, &OnBody);
    set(CURLOPT_WRITEDATA, exchange);
    set(CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(options_.connect_timeout.count()));
    if (options_.min_transfer_rate == 0) {
      set(CURLOPT_TIMEOUT_MS,
          static_cast<long>(options_.request_timeout.count()));
    } else if (options_.request_timeout.count() > 0) {
      exchange->grace = options_.request_timeout;
      exchange->min_rate = options_.min_transfer_rate;
      exchange->known_bytes =
          request.expected_bytes +
          (exchange->streams != nullptr && exchange->streams->source
               ? exchange->streams->upload_size
               : request.body.size());
      set(CURLOPT_XFERINFOFUNCTION, &OnProgress);
      set(CURLOPT_XFERINFODATA, exchange);
      set(CURLOPT_NOPROGRESS, 0L);
    }
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME,
        static_cast<long>(options_.stall_timeout.count()));
    set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_bundle.empty() && request.url.starts_with("https:")) {
      set(CURLOPT_CAINFO, options_.ca_bundle.c_str());
    }
    BodyStreams* streams = exchange->streams;
    const bool stream_up =
        streams != nullptr && streams->source &&
        (request.method == "PUT" || request.method == "POST");
    if (streams != nullptr) {
      set(CURLOPT_BUFFERSIZE, kStreamBufferBytes);
      if (stream_up) set(CURLOPT_UPLOAD_BUFFERSIZE, kStreamBufferBytes);
    }
    const std::string& m = request.method;
    if (stream_up) {
      set(CURLOPT_UPLOAD, 1L);
      if (m == "POST") set(CURLOPT_CUSTOMREQUEST, "POST");
      set(CURLOPT_READFUNCTION, &OnReadStream);
      set(CURLOPT_READDATA, exchange);
      set(CURLOPT_SEEKFUNCTION, &OnSeekStream);
      set(CURLOPT_SEEKDATA, exchange);
      set(CURLOPT_INFILESIZE_LARGE,
          static_cast<curl_off_t>(streams->upload_size));
    } else if (m == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else if (m == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else if (m == "PUT") {
      // A body in memory goes as a POST's does: a small one in the same
      // write as the headers (no extra packet), resent by curl itself.
      set(CURLOPT_CUSTOMREQUEST, "PUT");
      set(CURLOPT_POSTFIELDSIZE_LARGE,
          static_cast<curl_off_t>(request.body.size()));
      set(CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    } else if (m == "POST") {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDS, request.body.data());
      set(CURLOPT_POSTFIELDSIZE_LARGE,
          static_cast<curl_off_t>(request.body.size()));
    } else {
      set(CURLOPT_CUSTOMREQUEST, m.c_str());
    }
    return c;
  }

  Status DeadlineError(const HttpRequest& request,
                       const Exchange& exchange) const {
    const auto allowed =
        ScaledDeadline(exchange.grace, exchange.min_rate, exchange.moved);
    return DeadlineExceededError(
        std::string(exchange.context) + ": s3 " + request.method +
        " exceeded its deadline of " + std::to_string(allowed.count()) +
        " ms for " + std::to_string(exchange.moved) +
        " body bytes (request_timeout_ms " +
        std::to_string(exchange.grace.count()) + " + bytes at " +
        "min_transfer_rate " + std::to_string(exchange.min_rate) +
        " B/s; a server sending too slowly)");
  }

  CurlPtr Acquire() {
    {
      std::scoped_lock lock(mutex_);
      if (!idle_.empty()) {
        CurlPtr handle = std::move(idle_.back());
        idle_.pop_back();
        return handle;
      }
    }
    return CurlPtr(curl_easy_init());
  }

  void Release(CurlPtr handle) {
    {
      std::scoped_lock lock(mutex_);
      if (idle_.size() < options_.max_idle_handles) {
        idle_.push_back(std::move(handle));
        return;
      }
    }
    // Over the limit: the handle and its connection close here, outside
    // the lock.
  }

  const TransportOptions options_;
  std::unique_ptr<CURLM, MultiDeleter> multi_;
  std::mutex mutex_;
  std::condition_variable wake_;    // the loop: work, a batch's end, stop
  std::condition_variable parked_;  // a batch: the loop has parked
  // Guarded by mutex_.
  std::vector<CurlPtr> idle_;
  std::vector<std::unique_ptr<Transfer>> pending_;  // started, not added
  bool stopping_ = false;
  bool borrowed_ = false;     // a batch's thread drives the multi handle
  bool loop_parked_ = false;  // and the loop thread waits for it
  // The driving thread's own: the loop's, or a batch's while borrowed_.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running_;
  std::thread loop_;  // last: it uses the members above
};

// Collects the callbacks of HttpTransport::Start through a queue.
class QueuedBatch final : public HttpBatch {
 public:
  explicit QueuedBatch(HttpTransport& transport) : transport_(transport) {}
  ~QueuedBatch() override {
    std::unique_lock lock(mutex_);
    outstanding_cv_.wait(lock, [&] { return outstanding_ == 0; });
  }
  QueuedBatch(const QueuedBatch&) = delete;
  QueuedBatch& operator=(const QueuedBatch&) = delete;

  void Start(const HttpRequest& request, std::string_view context,
             std::size_t tag) override {
    {
      std::scoped_lock lock(mutex_);
      ++outstanding_;
    }
    transport_.Start(request, context, [this, tag](Result<HttpResponse> r) {
      // Notify under the lock: once it is released, the batch may be gone.
      std::scoped_lock lock(mutex_);
      arrived_.emplace_back(tag, std::move(r));
      --outstanding_;
      arrived_cv_.notify_one();
      if (outstanding_ == 0) outstanding_cv_.notify_one();
    });
  }

  void Wait(std::chrono::steady_clock::time_point until,
            Finished& finished) override {
    std::unique_lock lock(mutex_);
    auto has_arrived = [&] { return !arrived_.empty(); };
    if (until == std::chrono::steady_clock::time_point::max()) {
      arrived_cv_.wait(lock, has_arrived);
    } else {
      arrived_cv_.wait_until(lock, until, has_arrived);
    }
    for (auto& outcome : arrived_) finished.push_back(std::move(outcome));
    arrived_.clear();
  }

 private:
  HttpTransport& transport_;
  std::mutex mutex_;
  std::condition_variable arrived_cv_, outstanding_cv_;
  // Guarded by mutex_.
  Finished arrived_;
  std::size_t outstanding_ = 0;
};

}  // namespace

std::unique_ptr<HttpBatch> HttpTransport::NewBatch() {
  return std::make_unique<QueuedBatch>(*this);
}

const std::string* HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

ScopedBodyStreams::ScopedBodyStreams(BodyStreams* streams) {
  bound_streams = streams;
}

ScopedBodyStreams::~ScopedBodyStreams() { bound_streams = nullptr; }

void EnsureCurlGlobalInit() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

std::unique_ptr<HttpTransport> NewCurlTransport(TransportOptions options) {
  return std::make_unique<CurlTransport>(std::move(options));
}

}  // namespace backends::s3
