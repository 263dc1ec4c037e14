// The expiring caches on Redis (include/backends/redis.h): the expiry is
// Redis's (SET ... PX), so these layers only count and, for JSON, check
// and normalise values.

#include <atomic>
#include <memory>

#include "backends/json.h"
#include "backends/redis.h"
#include "cache/cache_core.h"

namespace backends {
namespace {

std::chrono::milliseconds Ttl(std::chrono::seconds timeout) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
}

// What both layers share: the Redis store underneath, the counters, the
// default timeout.
class RedisExpiry {
 public:
  RedisExpiry(RedisBackend& store, std::chrono::seconds timeout)
      : store_(store), timeout_(timeout) {}

  Status Dump(std::string_view key, std::string_view value,
              std::chrono::seconds timeout) {
    if (timeout < std::chrono::seconds(0)) {
      return InvalidArgumentError("dump " + QuoteKey(key) +
                                  ": negative timeout");
    }
    if (timeout == kNeverExpires) return store_.dump(key, value);
    return store_.dump_expiring(key, value, Ttl(timeout));
  }

  // The store's conditional write with this cache's expiry.
  Result<std::string> DumpIf(std::string_view key, std::string_view value,
                             const WriteCondition& condition,
                             std::chrono::seconds timeout) {
    if (timeout < std::chrono::seconds(0)) {
      return InvalidArgumentError("dump_if " + QuoteKey(key) +
                                  ": negative timeout");
    }
    std::optional<std::chrono::milliseconds> ttl;
    if (timeout != kNeverExpires) ttl = Ttl(timeout);
    return store_.dump_if_expiring(key, value, condition, ttl);
  }

  Result<std::optional<std::string>> Load(std::string_view key) {
    BACKENDS_ASSIGN_OR_RETURN(auto value, store_.load(key));
    ++(value ? hits_ : misses_);
    return value;
  }

  CacheStats Stats() const {
    CacheStats stats;
    stats.hits = hits_;
    stats.misses = misses_;
    return stats;
  }

  std::chrono::seconds timeout() const { return timeout_; }

 private:
  RedisBackend& store_;
  const std::chrono::seconds timeout_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

class RedisJsonCache final : public JsonEnvelopeBackend {
 public:
  RedisJsonCache(std::unique_ptr<RedisBackend> store, ExpiryOptions options)
      : JsonEnvelopeBackend(std::move(store)),
        expiry_(static_cast<RedisBackend&>(inner()), options.timeout),
        format_(options.format) {}

  Result<std::optional<std::string>> load(std::string_view key) override {
    return expiry_.Load(key);
  }
  Status dump(std::string_view key, std::string_view value) override {
    return dump(key, value, expiry_.timeout());
  }
  Status dump(std::string_view key, std::string_view value,
              std::chrono::seconds timeout) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    BACKENDS_ASSIGN_OR_RETURN(
        Json parsed, cache_internal::ParseJsonValue("dump", key, value));
    return dump_json(key, parsed, timeout);
  }
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    BACKENDS_ASSIGN_OR_RETURN(
        std::string text,
        cache_internal::ReformatJsonValue("dump_if", key, value, format_));
    return expiry_.DumpIf(key, text, condition, expiry_.timeout());
  }
  Result<std::optional<Json>> load_json(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto text, load(key));
    if (!text) return std::optional<Json>();
    auto value = ParseJson(*text);
    if (!value.ok()) {
      return DataLossError("load " + QuoteKey(key) + ": stored value is not "
                           "JSON: " + value.status().message());
    }
    return std::optional<Json>(std::move(*value));
  }
  Result<std::shared_ptr<const Json>> load_json_shared(
      std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto value, load_json(key));
    if (!value) return std::shared_ptr<const Json>();
    return std::shared_ptr<const Json>(
        std::make_shared<Json>(std::move(*value)));
  }
  Status dump_json(std::string_view key, const Json& value,
                   std::chrono::seconds timeout) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    auto text = DumpJson(value, format_);
    if (!text.ok()) {
      return InvalidArgumentError("dump " + QuoteKey(key) + ": " +
                                  text.status().message());
    }
    return expiry_.Dump(key, *text, timeout);
  }
  Result<std::size_t> prune() override { return std::size_t{0}; }
  CacheStats stats() const override { return expiry_.Stats(); }
  std::chrono::seconds timeout() const override { return expiry_.timeout(); }
  ExpiryOptions settings() const override {
    return {.timeout = expiry_.timeout(), .format = format_};
  }

 private:
  mutable RedisExpiry expiry_;
  const JsonFormat format_;
};

class RedisTextCache final : public ExpiringBackend {
 public:
  RedisTextCache(std::unique_ptr<RedisBackend> store, ExpiryOptions options)
      : ExpiringBackend(std::move(store)),
        expiry_(static_cast<RedisBackend&>(inner()), options.timeout) {}

  Result<std::optional<std::string>> load(std::string_view key) override {
    return expiry_.Load(key);
  }
  Status dump(std::string_view key, std::string_view value) override {
    return expiry_.Dump(key, value, expiry_.timeout());
  }
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    return expiry_.DumpIf(key, value, condition, expiry_.timeout());
  }
  Result<std::size_t> prune() override { return std::size_t{0}; }
  CacheStats stats() const override { return expiry_.Stats(); }
  std::chrono::seconds timeout() const override { return expiry_.timeout(); }

 private:
  mutable RedisExpiry expiry_;
};

Status CheckTimeout(const ExpiryOptions& options) {
  if (options.timeout < std::chrono::seconds(0)) {
    return InvalidArgumentError("cache: negative timeout");
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<JsonEnvelopeBackend>> NewRedisJsonCache(
    std::unique_ptr<RedisBackend> store, ExpiryOptions options) {
  BACKENDS_RETURN_IF_ERROR(CheckTimeout(options));
  return std::unique_ptr<JsonEnvelopeBackend>(
      std::make_unique<RedisJsonCache>(std::move(store), std::move(options)));
}

Result<std::unique_ptr<ExpiringBackend>> NewRedisTextCache(
    std::unique_ptr<RedisBackend> store, ExpiryOptions options) {
  BACKENDS_RETURN_IF_ERROR(CheckTimeout(options));
  return std::unique_ptr<ExpiringBackend>(
      std::make_unique<RedisTextCache>(std::move(store), std::move(options)));
}

}  // namespace backends
