#include "value_pipe.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "interrupt.h"

namespace backends::cli {
namespace {

// At most this many bytes wait between the two sides.
constexpr std::size_t kQueuedBytes = std::size_t{4} << 20;

class Pipe final : public ByteSink, public ByteSource {
 public:
  Pipe(std::string context, std::optional<std::uint64_t> size,
       std::function<void(std::size_t)> on_bytes)
      : context_(std::move(context)),
        size_(size),
        on_bytes_(std::move(on_bytes)) {}

  // The loading side.
  Status Write(std::string_view piece) override {
    if (InterruptSignal() != 0) return InterruptedError(context_);
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
      return reader_gone_ || queued_ == 0 ||
             queued_ + piece.size() <= kQueuedBytes;
    });
    if (reader_gone_) return CancelledByReader();
    queue_.emplace_back(piece);
    queued_ += piece.size();
    changed_.notify_all();
    return Status::OK();
  }
  // Called once the load has ended; `status` is its outcome.
  void Finish(Status status) {
    std::lock_guard lock(mutex_);
    writer_done_ = true;
    writer_status_ = std::move(status);
    changed_.notify_all();
  }

  // The dumping side.
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (InterruptSignal() != 0) return InterruptedError(context_);
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || writer_done_; });
    if (queue_.empty()) {
      if (!writer_status_.ok()) return writer_status_;
      return std::size_t{0};
    }
    std::string& front = queue_.front();
    const std::size_t n = std::min(buffer.size(), front.size() - offset_);
    std::memcpy(buffer.data(), front.data() + offset_, n);
    offset_ += n;
    if (on_bytes_) on_bytes_(n);
    if (offset_ == front.size()) {
      queued_ -= front.size();
      queue_.pop_front();
      offset_ = 0;
      changed_.notify_all();
    }
    return n;
  }
  std::optional<std::uint64_t> size() const override { return size_; }
  // Called once the dump has ended: a load still running stops.
  void CloseReader() {
    std::lock_guard lock(mutex_);
    reader_gone_ = true;
    changed_.notify_all();
  }

 private:
  Status CancelledByReader() const {
    return UnavailableError(context_ + ": the destination stopped reading");
  }

  const std::string context_;
  const std::optional<std::uint64_t> size_;
  const std::function<void(std::size_t)> on_bytes_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  std::size_t offset_ = 0;  // into queue_.front()
  bool writer_done_ = false;
  Status writer_status_;
  bool reader_gone_ = false;
};

}  // namespace

Result<bool> PipeValue(Backend& source, const std::string& source_key,
                       Backend& destination, const std::string& key,
                       std::optional<std::uint64_t> size,
                       const std::string& context,
                       std::function<void(std::size_t)> on_bytes) {
  Pipe pipe(context, size, std::move(on_bytes));
  bool found = false;
  std::thread loader([&] {
    Result<bool> loaded = source.load_stream(source_key, pipe);
    found = loaded.ok() && *loaded;
    if (!loaded.ok()) {
      pipe.Finish(loaded.status());
    } else if (!*loaded) {
      // Absent: the dump must not store an empty value in its place.
      pipe.Finish(NotFoundError(context + ": removed since the listing"));
    } else {
      pipe.Finish(Status::OK());
    }
  });
  Status dumped = destination.dump_stream(key, pipe);
  pipe.CloseReader();
  loader.join();
  if (!found && dumped.code() == ErrorCode::kNotFound) return false;
  BACKENDS_RETURN_IF_ERROR(dumped);
  return true;
}

}  // namespace backends::cli
