#pragma once

// Batches for the S3 store. A batch's requests go through
// S3Client::SendMany (s3_batch.cc): up to S3Options::connections of them in
// flight at once, each retried on its own, on the calling thread, which
// signs, drives the transport's multi handle (HttpTransport::NewBatch) and
// collects. So a batch of any size runs on its caller's thread, not one
// per connection.
//
// Thread safety: the functions here are pure.

#include <type_traits>
#include <vector>

#include "backends/status.h"

namespace backends::s3 {

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
