// Parallel batches on worker threads (see s3_batch.h for why threads).

#include "s3/s3_batch.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace backends::s3 {

void ParallelFor(std::size_t count, std::size_t workers,
                 const std::function<void(std::size_t)>& task) {
  if (count == 0) return;
  const std::size_t threads = std::clamp<std::size_t>(workers, 1, count);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      task(i);
    }
  };
  std::vector<std::jthread> helpers;
  helpers.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  // The jthreads join here.
}

}  // namespace backends::s3
