// The JsonCache envelope layer.
//
// Each value is stored as the original library's envelope, in its JSON
// format (keys sorted, so "content" comes before "expiration"):
//
//   {
//       "content": <value>,
//       "expiration": "2030-01-01T00:05:00"
//   }
//
// The envelope text is assembled around the value's own text rather than by
// building and re-serialising a bigger JSON tree: JSON strings cannot hold a
// raw newline, so indenting the value's text by one level is exact (a unit
// test compares the result with DumpJson of the whole envelope).
//
// An expired entry is removed only if it still holds the bytes that were
// found expired, checked by the store's remove_if (over files: taken aside
// by a rename, then checked), so a fresh value written meanwhile by another
// thread or process is never lost.
//
// Over a FileBackend, entries read from settled files are kept decoded
// (DecodedCopies) and served again after a stat shows the same stamp.

#include <optional>
#include <string>
#include <utility>

#include "backends/cache.h"
#include "backends/file.h"
#include "cache/decoded_copies.h"
#include "cache/envelope.h"
#include "cache/expiring_base.h"
#include "cache/expiry_time.h"

namespace backends {
namespace cache_internal {
namespace {

struct Envelope {
  Json content;
  SysSeconds expiration;
};

std::string Where(std::string_view operation, std::string_view key) {
  return std::string(operation) + " " + QuoteKey(key);
}

Result<Envelope> Unwrap(std::string_view operation, std::string_view key,
                        std::string_view stored) {
  // The envelope is one level around the content.
  auto doc = ParseJson(stored, kMaxJsonDepth + 1);
  if (!doc.ok()) {
    return DataLossError(Where(operation, key) +
                         ": not a cache envelope: " + doc.status().message());
  }
  if (!doc->is_object()) {
    return DataLossError(Where(operation, key) +
                         ": not a cache envelope: not a JSON object");
  }
  auto content = doc->find("content");
  auto expiration = doc->find("expiration");
  if (content == doc->end() || expiration == doc->end() ||
      !expiration->is_string()) {
    return DataLossError(Where(operation, key) +
                         ": not a cache envelope: needs \"content\" and a "
                         "string \"expiration\"");
  }
  const auto& stamp = expiration->get_ref<const std::string&>();
  auto when = ParseStamp(stamp);
  if (!when) {
    return DataLossError(Where(operation, key) + ": bad expiration " +
                         QuoteKey(stamp) + ", want YYYY-MM-DDTHH:MM:SS");
  }
  return Envelope{std::move(*content), *when};
}

class EnvelopeBackendImpl final : public ExpiringBase<JsonEnvelopeBackend> {
 public:
  EnvelopeBackendImpl(std::unique_ptr<Backend> inner, ExpiryOptions options)
      : ExpiringBase(std::move(inner), options),
        files_(dynamic_cast<FileBackend*>(&this->inner())),
        copies_(files_ != nullptr ? options.decoded_bytes : 0) {}
  using JsonEnvelopeBackend::dump;

  Result<std::optional<Json>> load_json(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Examined found, Examine("load", key));
    if (found.state != Liveness::kLive) {
      Miss();
      return std::optional<Json>();
    }
    Hit(key, found.stored_size);
    return std::optional<Json>(std::move(found).Take());
  }

  Result<std::shared_ptr<const Json>> load_json_shared(
      std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Examined found, Examine("load", key));
    if (found.state != Liveness::kLive) {
      Miss();
      return std::shared_ptr<const Json>();
    }
    Hit(key, found.stored_size);
    if (found.shared) return std::move(found.shared);
    return std::make_shared<const Json>(std::move(found.content));
  }

  Status dump_json(std::string_view key, const Json& value,
                   std::chrono::seconds timeout) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    BACKENDS_ASSIGN_OR_RETURN(std::string stored,
                              WrapFor("dump", key, value, timeout));
    Status written = inner().dump(key, stored);
    copies_.Erase(key);  // Stale either way; frees the memory now.
    BACKENDS_RETURN_IF_ERROR(written);
    Admitted(key, stored.size());
    return Status::OK();
  }

  Result<bool> remove(std::string_view key) override {
    auto removed = ExpiringBase::remove(key);
    copies_.Erase(key);
    return removed;
  }

  Status clear() override {
    copies_.Clear();
    return ExpiringBase::clear();
  }

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto value, load_json(key));
    if (!value) return std::optional<std::string>();
    auto text = DumpJson(*value, format_);
    if (!text.ok()) return text.status().WithContext(Where("load", key));
    return std::optional<std::string>(std::move(text).value());
  }

  Status dump(std::string_view key, std::string_view value) override {
    return dump(key, value, timeout_);
  }

  Status dump(std::string_view key, std::string_view value,
              std::chrono::seconds timeout) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    BACKENDS_ASSIGN_OR_RETURN(Json parsed, ParseJsonValue("dump", key, value));
    return dump_json(key, parsed, timeout);
  }

  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    BACKENDS_ASSIGN_OR_RETURN(Json parsed,
                              ParseJsonValue("dump_if", key, value));
    BACKENDS_ASSIGN_OR_RETURN(std::string stored,
                              WrapFor("dump_if", key, parsed, timeout_));
    auto version = ConditionalDump(key, stored, condition);
    copies_.Erase(key);
    return version;
  }

  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("stat", key));
    BACKENDS_ASSIGN_OR_RETURN(auto inner_info, inner().stat(key));
    if (!inner_info) return std::optional<KeyInfo>();
    BACKENDS_ASSIGN_OR_RETURN(Examined found, Examine("stat", key));
    if (found.state != Liveness::kLive) return std::optional<KeyInfo>();
    auto text = DumpJson(found.value(), format_);
    if (!text.ok()) return text.status().WithContext(Where("stat", key));
    return std::optional<KeyInfo>(Shown(*inner_info, text->size()));
  }

 protected:
  // The expiration lives in the value: each entry is read and decoded, as
  // list() does, and its size is that of the content as load gives it.
  Result<std::optional<KeyInfo>> Presented(const ListEntry& entry) override {
    auto found = Examine("list", entry.key);
    if (!found.ok()) {
      if (found.status().code() != ErrorCode::kDataLoss) return found.status();
      return std::optional<KeyInfo>(entry.info);
    }
    if (found->state != Liveness::kLive) return std::optional<KeyInfo>();
    auto text = DumpJson(found->value(), format_);
    if (!text.ok()) return text.status().WithContext(Where("list", entry.key));
    return std::optional<KeyInfo>(Shown(entry.info, text->size()));
  }

  Result<Liveness> Check(std::string_view operation,
                         std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Examined found, Examine(operation, key));
    return found.state;
  }

 private:
  // The envelope stored for `value` expiring `timeout` from now.
  Result<std::string> WrapFor(std::string_view operation, std::string_view key,
                               const Json& value,
                               std::chrono::seconds timeout) const {
    BACKENDS_ASSIGN_OR_RETURN(
        SysSeconds expiration,
        ExpirationFor(operation, key, clock_->now(), timeout));
    auto text = DumpJson(value, format_);
    if (!text.ok()) return text.status().WithContext(Where(operation, key));
    return WrapEnvelope(*text, expiration, format_);
  }

  struct Examined {
    Liveness state = Liveness::kAbsent;
    // When live: the content, owned or shared with a decoded copy.
    Json content;
    std::shared_ptr<const Json> shared;
    std::uint64_t stored_size = 0;

    const Json& value() const { return shared ? *shared : content; }
    Json Take() && { return shared ? Json(*shared) : std::move(content); }
  };

  // The inner store's time and version, with the size of the content as
  // load gives it.
  static KeyInfo Shown(const KeyInfo& stored, std::uint64_t content_size) {
    return KeyInfo{.size = content_size,
                   .modified = stored.modified,
                   .version = stored.version};
  }

  // Whether `key` is live (with its content and stored size), absent, or
  // expired (then removed on the way).
  Result<Examined> Examine(std::string_view operation, std::string_view key) {
    BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, key));
    BACKENDS_ASSIGN_OR_RETURN(auto copied, FromCopy(key));
    if (copied) return std::move(*copied);
    // Bounded: each further round means the entry was rewritten meanwhile.
    for (int round = 0; round < 3; ++round) {
      std::optional<FileStamp> settled;
      BACKENDS_ASSIGN_OR_RETURN(auto stored, Load(key, settled));
      if (!stored) return Examined{};
      BACKENDS_ASSIGN_OR_RETURN(Envelope envelope,
                                Unwrap(operation, key, *stored));
      if (!IsExpired(clock_->now(), envelope.expiration)) {
        if (settled && copies_.enabled()) {
          auto shared =
              std::make_shared<const Json>(std::move(envelope.content));
          copies_.Put(key,
                      {*settled, shared, envelope.expiration, stored->size()});
          return Examined{Liveness::kLive, Json(), std::move(shared),
                          stored->size()};
        }
        return Examined{Liveness::kLive, std::move(envelope.content), nullptr,
                        stored->size()};
      }
      // Removed only if it still holds the bytes found expired; otherwise
      // it was rewritten (or removed) meanwhile: look again.
      BACKENDS_ASSIGN_OR_RETURN(
          bool removed, inner().remove_if(key, [&](std::string_view now_stored,
                                                   const KeyInfo&) {
            return now_stored == *stored;
          }));
      copies_.Erase(key);
      if (removed) {
        Expired(key);
        return Examined{Liveness::kExpired, Json(), nullptr, 0};
      }
    }
    return Examined{};
  }

  // A live entry from its decoded copy, if its file is unchanged since the
  // copy was made; nullopt sends the caller to the file.
  Result<std::optional<Examined>> FromCopy(std::string_view key) {
    auto copy = copies_.Find(key);
    if (!copy) return std::optional<Examined>();
    BACKENDS_ASSIGN_OR_RETURN(auto stamp, files_->stamp(key));
    if (stamp != copy->stamp) {
      copies_.Erase(key);
      return std::optional<Examined>();
    }
    // Expired: the file path removes it (if it still holds these bytes).
    if (IsExpired(clock_->now(), copy->expiration)) {
      return std::optional<Examined>();
    }
    ++counters_.decoded_hits;
    return std::optional<Examined>(Examined{
        Liveness::kLive, Json(), std::move(copy->content), copy->stored_size});
  }

  Result<std::optional<std::string>> Load(std::string_view key,
                                          std::optional<FileStamp>& settled) {
    if (files_ != nullptr) return files_->load_stamped(key, settled);
    return inner().load(key);
  }

  FileBackend* const files_;  // inner() when it is a file store, else null.
  DecodedCopies copies_;
};

}  // namespace

std::string WrapEnvelope(std::string_view content_text, SysSeconds expiration,
                         const JsonFormat& format) {
  const std::string stamp = FormatStamp(expiration);
  if (format.indent < 0) {
    std::string out = "{\"content\":";
    out.append(content_text);
    out.append(",\"expiration\":\"").append(stamp).append("\"}");
    return out;
  }
  const std::string newline =
      "\n" + std::string(static_cast<std::size_t>(format.indent), ' ');
  std::string out;
  out.reserve(content_text.size() + content_text.size() / 8 + 64);
  out.append("{").append(newline).append("\"content\": ");
  for (char c : content_text) {
    if (c == '\n') {
      out.append(newline);
    } else {
      out.push_back(c);
    }
  }
  out.append(",").append(newline).append("\"expiration\": \"");
  out.append(stamp).append("\"\n}");
  return out;
}

}  // namespace cache_internal

Result<std::unique_ptr<JsonEnvelopeBackend>> NewJsonEnvelopeBackend(
    std::unique_ptr<Backend> inner, ExpiryOptions options) {
  if (options.timeout < std::chrono::seconds::zero()) {
    return InvalidArgumentError("json envelope cache: negative timeout " +
                                std::to_string(options.timeout.count()) + " s");
  }
  auto layer = std::make_unique<cache_internal::EnvelopeBackendImpl>(
      std::move(inner), std::move(options));
  BACKENDS_RETURN_IF_ERROR(layer->Init());
  return std::unique_ptr<JsonEnvelopeBackend>(std::move(layer));
}

}  // namespace backends
