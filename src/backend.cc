#include "backends/backend.h"

#include "write_condition.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>

namespace backends {

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    // Skip ASCII eight bytes at a time: most keys and texts are ASCII.
    while (end - p >= 8) {
      std::uint64_t word;
      __builtin_memcpy(&word, p, 8);
      if (word & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    std::uint32_t min;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += extra + 1;
  }
  return true;
}

namespace {

// Whether eight bytes are all printable ASCII (0x20-0x7E), in a few word
// operations: once no byte has its high bit set, subtracting 0x20 from every
// byte sets a high bit exactly when some byte is below 0x20, and subtracting
// 1 after XOR 0x7F exactly when some byte is 0x7F (the borrows only ever
// spread from a byte that already answers yes).
bool IsPrintableAsciiWord(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  return ((w | (w - 0x20 * kOnes) | ((w ^ (0x7F * kOnes)) - kOnes)) & kHigh) ==
         0;
}

// The common key, checked eight bytes at a time: every operation of every
// store checks its key, and byte by byte that was a tenth of a memory
// store's 100 B dump (perf).
bool IsPrintableAscii(std::string_view key) {
  const char* p = key.data();
  const std::size_t n = key.size();
  std::uint64_t w;
  if (n < 8) {
    w = 0x2020202020202020ULL;  // Spaces: printable padding.
    __builtin_memcpy(&w, p, n);
    return IsPrintableAsciiWord(w);
  }
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    __builtin_memcpy(&w, p + i, 8);
    if (!IsPrintableAsciiWord(w)) return false;
  }
  __builtin_memcpy(&w, p + n - 8, 8);  // The tail, overlapping.
  return IsPrintableAsciiWord(w);
}

}  // namespace

std::string QuoteKey(std::string_view key) {
  constexpr std::size_t kMaxShown = 200;
  std::string out = "\"";
  for (std::size_t i = 0; i < key.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);  // UTF-8 passes through unchanged.
    }
  }
  if (key.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

Status ValidateKey(std::string_view operation, std::string_view key) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                                ": invalid key: " + std::string(why));
  };
  if (key.empty()) return invalid("empty");
  if (key.size() > kMaxKeyBytes) {
    return invalid("longer than " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (IsPrintableAscii(key)) return Status::OK();
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return invalid("contains a control character");
  }
  if (!IsValidUtf8(key)) return invalid("not valid UTF-8");
  return Status::OK();
}

Backend::~Backend() = default;

Result<bool> Backend::contains(std::string_view key) {
  BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
  return value.has_value();
}

Status Backend::dump_stream(std::string_view key, ByteSource& source) {
  std::string value;
  if (auto size = source.size()) value.reserve(*size);
  std::size_t used = 0;
  while (true) {
    if (value.size() - used < 64 * 1024) value.resize(used + 256 * 1024);
    BACKENDS_ASSIGN_OR_RETURN(std::size_t n,
                              source.Read(std::span(value).subspan(used)));
    if (n == 0) break;
    used += n;
  }
  value.resize(used);
  return dump(key, value);
}

Result<bool> Backend::load_stream(std::string_view key, ByteSink& sink) {
  BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
  if (!value) return false;
  BACKENDS_RETURN_IF_ERROR(sink.Write(*value));
  return true;
}

Result<std::optional<std::string>> Backend::load_range(std::string_view key,
                                                      std::uint64_t offset,
                                                      std::uint64_t length) {
  BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
  if (!value) return value;
  if (offset >= value->size()) return std::optional<std::string>("");
  value->erase(0, offset);
  if (length < value->size()) value->resize(length);
  return value;
}

Result<bool> Backend::copy(std::string_view src_key, std::string_view dst_key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("copy", dst_key));
  BACKENDS_ASSIGN_OR_RETURN(auto value, load(src_key));
  if (!value) return false;
  if (src_key == dst_key) return true;
  BACKENDS_RETURN_IF_ERROR(dump(dst_key, *value));
  return true;
}

Result<bool> Backend::rename(std::string_view src_key,
                             std::string_view dst_key) {
  if (src_key == dst_key) {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("rename", dst_key));
    return contains(src_key);
  }
  BACKENDS_ASSIGN_OR_RETURN(bool copied, copy(src_key, dst_key));
  if (!copied) return false;
  BACKENDS_RETURN_IF_ERROR(remove(src_key).status());
  return true;
}

Result<std::string> Backend::dump_if(std::string_view key,
                                     std::string_view value,
                                     const WriteCondition& condition) {
  if (!condition.if_absent && !condition.if_version) {
    BACKENDS_RETURN_IF_ERROR(dump(key, value));
    BACKENDS_ASSIGN_OR_RETURN(auto info, stat(key));
    return info ? info->version : std::string();
  }
  return UnimplementedError("dump_if " + QuoteKey(key) + ": " + url() +
                            " has no conditional writes");
}

bool IsConditionFailure(const Status& status) {
  return status.code() == ErrorCode::kAlreadyExists ||
         status.code() == ErrorCode::kFailedPrecondition;
}

Status CheckWriteCondition(std::string_view key,
                           const WriteCondition& condition,
                           const std::optional<std::string>& current) {
  const std::string context =
      "dump_if " + QuoteKey(key) + ": precondition failed: ";
  if (condition.if_absent && current) {
    return AlreadyExistsError(context + "the key already exists (create-only)");
  }
  if (condition.if_version && current != condition.if_version) {
    return FailedPreconditionError(
        context + "the version is no longer " + *condition.if_version +
        (current ? " (it is " + *current + ")" : " (the key has no value)"));
  }
  return Status::OK();
}

Result<std::optional<KeyInfo>> Backend::stat(std::string_view key) {
  BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
  if (!value) return std::optional<KeyInfo>();
  return std::optional<KeyInfo>(
      KeyInfo{.size = value->size(), .modified = std::nullopt});
}

Result<bool> Backend::remove_if(std::string_view key,
                                const RemovalCheck& should_remove) {
  BACKENDS_ASSIGN_OR_RETURN(auto info, stat(key));
  if (!info) return false;
  BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
  if (!value || !should_remove(*value, *info)) return false;
  return remove(key);
}

Result<std::size_t> Backend::size() {
  BACKENDS_ASSIGN_OR_RETURN(auto all, keys());
  return all.size();
}

Result<std::vector<Backend::Entry>> Backend::items() {
  BACKENDS_ASSIGN_OR_RETURN(auto all, keys());
  std::vector<Entry> out;
  out.reserve(all.size());
  for (auto& key : all) {
    BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
    if (value) out.emplace_back(std::move(key), std::move(*value));
  }
  return out;
}

Status Backend::clear() {
  BACKENDS_ASSIGN_OR_RETURN(auto all, keys());
  for (const auto& key : all) BACKENDS_RETURN_IF_ERROR(remove(key));
  return Status::OK();
}

Result<KeyPage> Backend::list_page(std::string_view prefix,
                                   std::string_view start_after,
                                   std::size_t limit) {
  BACKENDS_ASSIGN_OR_RETURN(auto all, list(prefix));
  auto first = std::upper_bound(all.begin(), all.end(), start_after);
  KeyPage page;
  const std::size_t count =
      std::min<std::size_t>(std::max<std::size_t>(limit, 1),
                            static_cast<std::size_t>(all.end() - first));
  page.keys.assign(std::make_move_iterator(first),
                   std::make_move_iterator(first + count));
  page.more = first + count != all.end();
  return page;
}

namespace {
// Sorts after every key that starts with what precedes it: keys are UTF-8,
// which never holds the byte 0xFF.
constexpr char kAfterEveryKey = '\xff';
}  // namespace

// Reads the keys through list_page, so a store or layer that pages its keys
// pages its entries too; only the keys of one page are held.
Result<EntryPage> Backend::list_entries(const ListRequest& request) {
  const std::size_t limit = std::max<std::size_t>(request.limit, 1);
  EntryPage page;
  std::size_t count = 0;
  std::string after = request.start_after;
  for (;;) {
    BACKENDS_ASSIGN_OR_RETURN(KeyPage keys,
                              list_page(request.prefix, after, limit - count));
    if (keys.keys.empty()) return page;
    bool skip_rest = false;  // the rest of this page is in a common prefix
    for (std::string& key : keys.keys) {
      if (count == limit) {
        page.more = true;
        return page;
      }
      if (!request.delimiter.empty()) {
        const auto cut = key.find(request.delimiter, request.prefix.size());
        if (cut != std::string::npos) {
          std::string common = key.substr(0, cut + request.delimiter.size());
          after = common + kAfterEveryKey;
          page.resume_after = after;
          page.common_prefixes.push_back(std::move(common));
          ++count;
          skip_rest = true;
          break;
        }
      }
      BACKENDS_ASSIGN_OR_RETURN(auto info, stat(key));
      after = key;
      if (!info) continue;  // removed since the listing
      page.resume_after = key;
      page.entries.push_back(ListEntry{std::move(key), std::move(*info)});
      ++count;
    }
    if (!skip_rest && !keys.more) return page;
    if (count == limit) {
      page.more = true;
      return page;
    }
  }
}

Backend::Iterator Backend::begin() { return Iterator(this); }

// Keys read per page while iterating: enough to amortise a listing request
// (S3's page is 1,000 keys), few enough to hold.
constexpr std::size_t kIterationPage = 1000;

Backend::Iterator::Iterator(Backend* backend) : backend_(backend) {
  page_.more = true;
  Advance();
}

Backend::Iterator& Backend::Iterator::operator++() {
  if (failed_) {
    current_.reset();
  } else {
    Advance();
  }
  return *this;
}

void Backend::Iterator::Advance() {
  current_.reset();
  while (true) {
    if (next_ == page_.keys.size()) {
      if (!page_.more) return;
      const std::string after = page_.keys.empty() ? "" : page_.keys.back();
      auto page = backend_->list_page("", after, kIterationPage);
      if (!page.ok()) {
        failed_ = true;
        current_.emplace(std::move(page).status());
        return;
      }
      page_ = std::move(page).value();
      next_ = 0;
      if (page_.keys.empty()) return;  // the end (more is false then)
    }
    std::string& key = page_.keys[next_++];
    auto value = backend_->load(key);
    if (!value.ok()) {
      failed_ = true;
      current_.emplace(std::move(value).status());
      return;
    }
    if (value->has_value()) {
      // A copy: the page's last key is where the next page starts.
      current_.emplace(Entry(key, std::move(**value)));
      return;
    }
  }
}

BackendWrapper::BackendWrapper(std::unique_ptr<Backend> inner)
    : inner_(std::move(inner)) {}
BackendWrapper::~BackendWrapper() = default;

Result<std::optional<std::string>> BackendWrapper::load(std::string_view key) {
  return inner_->load(key);
}
Status BackendWrapper::dump(std::string_view key, std::string_view value) {
  return inner_->dump(key, value);
}
Result<bool> BackendWrapper::remove(std::string_view key) {
  return inner_->remove(key);
}
Result<std::vector<std::string>> BackendWrapper::list(std::string_view prefix) {
  return inner_->list(prefix);
}
Result<KeyPage> BackendWrapper::list_page(std::string_view prefix,
                                          std::string_view start_after,
                                          std::size_t limit) {
  return inner_->list_page(prefix, start_after, limit);
}
Result<EntryPage> BackendWrapper::list_entries(const ListRequest& request) {
  return Backend::list_entries(request);  // from this layer's list and stat
}

Result<std::optional<KeyInfo>> BackendWrapper::stat(std::string_view key) {
  return inner_->stat(key);
}
Result<bool> BackendWrapper::contains(std::string_view key) {
  return inner_->contains(key);
}
Result<std::size_t> BackendWrapper::size() { return inner_->size(); }
Result<std::vector<Backend::Entry>> BackendWrapper::items() {
  return inner_->items();
}
Status BackendWrapper::clear() { return inner_->clear(); }
std::string BackendWrapper::url() const { return inner_->url(); }

}  // namespace backends
