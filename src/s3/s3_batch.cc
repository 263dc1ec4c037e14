// S3Client::SendMany: many requests, each with Send's retry policy, driven
// from the calling thread through a batch of the transport (NewBatch: with
// curl, the calling thread drives the transfers itself).
//
// The caller keeps a window of at most `in_flight` attempts in the batch.
// It judges each finished attempt as Send would: a final outcome, a resend
// at once (region corrected), or a retry after a backoff, kept in a
// schedule instead of a sleep so that one request's backoff does not hold
// up the others. Retries that are due go before requests not yet started.

#include "s3/s3_batch.h"

#include <algorithm>
#include <chrono>
#include <memory>
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
  // After `calls`, so it ends (with its transfers) before them.
  std::unique_ptr<HttpBatch> batch = transport_->NewBatch();

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
    batch->Start(**http, contexts[i], i);
  };

  HttpBatch::Finished arrived;
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
    batch->Wait(
        retries.empty() ? Clock::time_point::max() : retries.top().first,
        arrived);
    for (auto& [i, response] : arrived) {
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
    arrived.clear();
  }
  std::vector<Result<HttpResponse>> out;
  out.reserve(count);
  for (auto& outcome : outcomes) out.push_back(std::move(*outcome));
  return out;
}

}  // namespace backends::s3
