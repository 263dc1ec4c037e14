#pragma once

// Parallel batches for the S3 store: runs many independent requests on up to
// N worker threads, each doing ordinary blocking S3Client::Send calls.
//
// Why threads and not curl multi: every request already goes through
// S3Client::Send (signing per attempt, region correction, retries with
// backoff, secret scrubbing). Worker threads reuse that path unchanged; a
// curl-multi loop would need a second, event-driven copy of it with its own
// retry state machine. The cost is one thread per connection (16 by
// default), small next to a network round trip, and the transport's handle
// pool guarantees that a curl handle is used by one thread at a time: a
// worker takes a handle for one request and gives it back afterwards, so the
// N workers keep N keep-alive connections busy.
//
// Thread safety: ParallelFor may be called from many threads at once; `task`
// must be safe to call concurrently for different indices.

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "backends/status.h"

namespace backends::s3 {

/// Calls task(i) for every i in [0, count), on min(workers, count) threads
/// (the calling thread is one of them), each taking the next index as it
/// finishes one. Returns when every call has returned.
void ParallelFor(std::size_t count, std::size_t workers,
                 const std::function<void(std::size_t)>& task);

/// results[i] = task(inputs[i]) for every input, in parallel (see
/// ParallelFor), in input order.
template <typename R, typename T, typename F>
std::vector<R> ParallelMap(std::span<const T> inputs, std::size_t workers,
                           F task) {
  std::vector<std::optional<R>> slots(inputs.size());
  ParallelFor(inputs.size(), workers,
              [&](std::size_t i) { slots[i].emplace(task(inputs[i])); });
  std::vector<R> out;
  out.reserve(inputs.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

/// The first error among a batch's results (Status or Result<T>), or OK.
template <typename R>
Status FirstError(const std::vector<R>& results) {
  for (const auto& result : results) {
    if (!result.ok()) {
      if constexpr (std::is_same_v<R, Status>) {
        return result;
      } else {
        return result.status();
      }
    }
  }
  return Status::OK();
}

}  // namespace backends::s3
