// S3Client::SendMany: many requests, each with Send's retry policy, driven
// from the calling thread over the transport's asynchronous Start.
//
// The caller keeps a window of at most `in_flight` attempts on the
// transport. Finished attempts come back through a queue that the
// transport's completion callbacks fill (on its loop thread; they only
// append and notify, so they never hold up the loop). The caller judges
// each one as Send would: a final outcome, a resend at once (region
// corrected), or a retry after a backoff, kept in a schedule instead of a
// sleep so that one request's backoff does not hold up the others. Retries
// that are due go before requests not yet started.

#include "s3/s3_batch.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <utility>

#include "s3/s3_client.h"

namespace backends::s3 {

std::vector<Result<HttpResponse>> S3Client::SendMany(
    std::span<const Request> requests, std::span<const std::string> contexts,
    std::size_t in_flight) {
  using Clock = std::chrono::steady_clock;
  const std::size_t count = requests.size();
  in_flight = std::max<std::size_t>(in_flight, 1);
  std::vector<std::optional<Result<HttpResponse>>> outcomes(count);
  std::vector<std::unique_ptr<Call>> calls(count);

  std::mutex mutex;
  std::condition_variable arrived_cv;
  // Guarded by mutex: finished attempts, by request index.
  std::vector<std::pair<std::size_t, Result<HttpResponse>>> arrived;

  using Due = std::pair<Clock::time_point, std::size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> retries;
  std::size_t next_new = 0, running = 0, finished = 0;

  auto launch = [&](std::size_t i) {
    Result<const HttpRequest*> http = calls[i]->Sign();
    if (!http.ok()) {
      outcomes[i].emplace(http.status());
      calls[i].reset();
      ++finished;
      return;
    }
    ++running;
    transport_->Start(**http, contexts[i], [&, i](Result<HttpResponse> r) {
      // Notify under the lock: SendMany returns once it sees the last one.
      // Only the first arrival wakes the caller; it takes all there are.
      std::scoped_lock lock(mutex);
      arrived.emplace_back(i, std::move(r));
      if (arrived.size() == 1) arrived_cv.notify_one();
    });
  };

  std::vector<std::pair<std::size_t, Result<HttpResponse>>> batch;
  while (finished < count) {
    const auto now = Clock::now();
    while (running < in_flight) {
      if (!retries.empty() && retries.top().first <= now) {
        const std::size_t i = retries.top().second;
        retries.pop();
        launch(i);
      } else if (next_new < count) {
        const std::size_t i = next_new++;
        calls[i] = std::make_unique<Call>(*this, requests[i], contexts[i]);
        launch(i);
      } else {
        break;
      }
    }
    if (finished == count) break;
    {
      std::unique_lock lock(mutex);
      auto has_arrived = [&] { return !arrived.empty(); };
      if (!retries.empty()) {
        arrived_cv.wait_until(lock, retries.top().first, has_arrived);
      } else {
        arrived_cv.wait(lock, has_arrived);
      }
      batch.swap(arrived);
    }
    for (auto& [i, response] : batch) {
      --running;
      std::optional<Result<HttpResponse>> outcome =
          calls[i]->Judge(std::move(response));
      if (outcome) {
        outcomes[i] = std::move(outcome);
        calls[i].reset();
        ++finished;
      } else if (!calls[i]->backoff() || retry_.sleep) {
        calls[i]->SleepBackoff();  // the test hook, or no wait at all
        retries.emplace(Clock::now(), i);
      } else {
        retries.emplace(Clock::now() + *calls[i]->backoff(), i);
      }
    }
    batch.clear();
  }
  std::vector<Result<HttpResponse>> out;
  out.reserve(count);
  for (auto& outcome : outcomes) out.push_back(std::move(*outcome));
  return out;
}

}  // namespace backends::s3
