#include "reliability/prune_race.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

namespace backends::reliability {
namespace {

using std::chrono::seconds;

std::string Key(int writer, int k) {
  return "w" + std::to_string(writer) + "/k" + std::to_string(k);
}

// One cache of either kind, as the race needs it: text values in, text out.
class RaceCache {
 public:
  static Result<RaceCache> Open(CacheKind kind,
                                const std::filesystem::path& root) {
    CacheOptions options{.timeout = seconds(3600)};
    RaceCache cache(kind, root);
    if (kind == CacheKind::kJson) {
      BACKENDS_ASSIGN_OR_RETURN(auto json, JsonCache::Open(root, options));
      cache.json_.emplace(std::move(json));
    } else {
      BACKENDS_ASSIGN_OR_RETURN(auto text, TextCache::Open(root, options));
      cache.text_.emplace(std::move(text));
    }
    return cache;
  }

  // An entry that is already expired: a JSON timeout of 0, or a text file
  // whose time is set back an hour and a minute.
  Status WriteExpired(const std::string& key, const std::string& value) {
    if (json_) return json_->set(key, value, seconds(0));
    BACKENDS_RETURN_IF_ERROR(text_->set(key, value));
    const auto path = root_ / key;
    struct timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 3660;
    times[1] = times[0];
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno != ENOENT) {  // Pruned already.
      return IOError("utimensat " + path.string() + ": " +
                     std::strerror(errno));
    }
    return Status::OK();
  }

  Status WriteFresh(const std::string& key, const std::string& value) {
    if (json_) return json_->set(key, value);
    return text_->set(key, value);
  }

  Result<std::optional<std::string>> Get(const std::string& key) {
    if (text_) return text_->get(key);
    BACKENDS_ASSIGN_OR_RETURN(auto value, json_->get(key));
    if (!value) return std::optional<std::string>();
    if (!value->is_string()) return DataLossError("not a string: " + key);
    return std::optional<std::string>(value->get<std::string>());
  }

  Result<std::size_t> Prune() {
    return json_ ? json_->prune() : text_->prune();
  }

  Result<std::vector<std::string>> Keys() {
    return json_ ? json_->store().inner().keys()
                 : text_->store().inner().keys();
  }

 private:
  RaceCache(CacheKind kind, std::filesystem::path root)
      : kind_(kind), root_(std::move(root)) {}

  CacheKind kind_;
  std::filesystem::path root_;
  std::optional<JsonCache> json_;
  std::optional<TextCache> text_;
};

}  // namespace

RaceResult RunRaceWriter(CacheKind kind, const std::filesystem::path& root,
                         int writer, std::uint64_t rounds) {
  RaceResult result;
  auto cache = RaceCache::Open(kind, root);
  if (!cache.ok()) {
    result.error = cache.status().ToString();
    return result;
  }
  std::vector<std::string> fresh(kKeysPerWriter);
  auto check = [&](int k) {
    if (fresh[k].empty()) return true;
    const auto deadline = std::chrono::steady_clock::now() + seconds(1);
    for (int attempt = 0;; ++attempt) {
      auto got = cache->Get(Key(writer, k));
      if (!got.ok()) {
        result.error = got.status().ToString();
        return false;
      }
      if (*got && **got == fresh[k]) {
        if (attempt > 0) ++result.transient_misses;
        return true;
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ++result.lost;
    return true;
  };
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const int k = static_cast<int>(round % kKeysPerWriter);
    const std::string key = Key(writer, k);
    if (!check(k)) return result;
    const std::string tag =
        std::to_string(writer) + ":" + std::to_string(round);
    Status written = cache->WriteExpired(key, "old " + tag);
    if (written.ok()) written = cache->WriteFresh(key, "fresh " + tag);
    if (!written.ok()) {
      result.error = written.ToString();
      return result;
    }
    fresh[k] = "fresh " + tag;
    ++result.rounds;
  }
  for (int k = 0; k < kKeysPerWriter; ++k) {
    if (!check(k)) return result;
  }
  return result;
}

std::string RunRacePruner(CacheKind kind, const std::filesystem::path& root,
                          bool read, const std::atomic<bool>& stop) {
  auto cache = RaceCache::Open(kind, root);
  if (!cache.ok()) return cache.status().ToString();
  while (!stop.load(std::memory_order_relaxed)) {
    if (!read) {
      auto pruned = cache->Prune();
      if (!pruned.ok()) return pruned.status().ToString();
      continue;
    }
    auto keys = cache->Keys();
    if (!keys.ok()) return keys.status().ToString();
    for (const auto& key : *keys) {
      auto got = cache->Get(key);
      if (!got.ok()) return got.status().ToString();
    }
  }
  return "";
}

}  // namespace backends::reliability
