// RedisBackend on one server (include/backends/redis.h).

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>

#include "backends/open.h"
#include "backends/redis.h"
#include "redis/redis_client.h"
#include "redis/redis_cluster.h"
#include "write_condition.h"

namespace backends {
namespace {

using redis::Command;
using redis::Idempotent;
using redis::Reply;
using redis::ReplyText;

// Keys per SCAN step, per UNLINK and per pipeline chunk of a batch: big
// enough to amortise the round trip, small enough that no single command
// keeps the server busy for long.
constexpr std::size_t kBatch = 1000;
// Pieces of a streamed value; values up to this size are read with one GET.
constexpr std::size_t kStreamPiece = 4 << 20;
// A temporary key outlives an abandoned stream by this long.
constexpr std::string_view kTemporaryLifetimeMs = "3600000";
// A value's size and version (the SHA-1 of its bytes, as an S3 ETag is an
// MD5), computed by the server; false for a missing key.
constexpr std::string_view kStatScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return false end "
    "return {string.len(v), redis.sha1hex(v)}";

// A conditional write (dump_if): ARGV = value, condition ("absent",
// "version" or ""), the version wanted, the expiry in ms ("" for none; 0 or
// less removes the key). Returns {1, new version} when written, else {0,
// whether the key held a value, its version}.
constexpr std::string_view kDumpIfScript =
    "local cur = redis.call('GET', KEYS[1]) "
    "local have = cur and redis.sha1hex(cur) or '' "
    "if (ARGV[2] == 'absent' and cur) or "
    "   (ARGV[2] == 'version' and (not cur or have ~= ARGV[3])) then "
    "  return {0, cur and 1 or 0, have} end "
    "if ARGV[4] == '' then redis.call('SET', KEYS[1], ARGV[1]) "
    "elseif tonumber(ARGV[4]) > 0 then "
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4]) "
    "else redis.call('DEL', KEYS[1]) end "
    "return {1, redis.sha1hex(ARGV[1])}";
// ARGV = offset, last byte: false for a missing key, else GETRANGE's bytes.
constexpr std::string_view kRangeScript =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return false end "
    "return redis.call('GETRANGE', KEYS[1], ARGV[1], ARGV[2])";
// KEYS = source, destination; ARGV[1] = "copy" or "rename". 0 when the
// source is missing; the same key changes nothing.
constexpr std::string_view kMoveScript =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "if KEYS[1] == KEYS[2] then return 1 end "
    "if ARGV[1] == 'copy' then redis.call('COPY', KEYS[1], KEYS[2], 'REPLACE') "
    "else redis.call('RENAME', KEYS[1], KEYS[2]) end "
    "return 1";

// A glob matching exactly the keys that start with `prefix`.
std::string GlobPrefix(std::string_view prefix) {
  std::string glob;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      glob += '\\';
    }
    glob += c;
  }
  glob += '*';
  return glob;
}

std::string RandomSuffix() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  auto bits = random();
  for (int i = 0; i < 16; ++i, bits >>= 4) out += kHex[bits & 15];
  return out;
}

std::string Quoted(std::string_view operation, std::string_view key) {
  return std::string(operation) + " " + QuoteKey(key);
}

class RedisStore final : public RedisBackend {
 public:
  explicit RedisStore(RedisOptions options)
      : options_(std::move(options)),
        transport_(options_.cluster
                       ? std::unique_ptr<redis::Transport>(
                             std::make_unique<redis::ClusterClient>(options_))
                       : std::make_unique<redis::Client>(options_)) {}

  Status Open() { return transport_->Check(); }

  const RedisOptions& options() const override { return options_; }

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
    const std::string name = Name(key);
    const std::string what = Quoted("load", key);
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply, transport_->RunOne({"GET", name}, Idempotent::kYes, what));
    return ValueOf(*reply, what);
  }

  Status dump(std::string_view key, std::string_view value) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    const std::string what = Quoted("dump", key);
    BACKENDS_RETURN_IF_ERROR(CheckSize(what, value.size()));
    const std::string name = Name(key);
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply,
        transport_->RunOne({"SET", name, value}, Idempotent::kYes, what));
    return Check(*reply, what);
  }

  Status dump_expiring(std::string_view key, std::string_view value,
                       std::chrono::milliseconds ttl) override {
    if (ttl.count() <= 0) {
      BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
      return remove(key).status();
    }
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    const std::string what = Quoted("dump", key);
    BACKENDS_RETURN_IF_ERROR(CheckSize(what, value.size()));
    const std::string name = Name(key);
    const std::string ms = std::to_string(ttl.count());
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply,
        transport_->RunOne({"SET", name, value, "PX", ms}, Idempotent::kYes, what));
    return Check(*reply, what);
  }

  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    return dump_if_expiring(key, value, condition, std::nullopt);
  }

  Result<std::string> dump_if_expiring(
      std::string_view key, std::string_view value,
      const WriteCondition& condition,
      std::optional<std::chrono::milliseconds> ttl) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    const std::string what = Quoted("dump_if", key);
    BACKENDS_RETURN_IF_ERROR(CheckSize(what, value.size()));
    const std::string name = Name(key);
    const std::string_view mode = condition.if_absent    ? "absent"
                                  : condition.if_version ? "version"
                                                         : "";
    const std::string wanted = condition.if_version.value_or("");
    const std::string ms = ttl ? std::to_string(ttl->count()) : "";
    // Not idempotent: resent after a lost reply, a write that landed would
    // fail its own condition.
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply,
        transport_->RunOne({"EVAL", kDumpIfScript, "1", name, value, mode, wanted,
                        ms},
                       Idempotent::kNo, what));
    BACKENDS_RETURN_IF_ERROR(Check(*reply, what));
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
      return InternalError(what + ": unexpected reply");
    }
    if (reply->element[0]->integer == 1) {
      return std::string(ReplyText(*reply->element[1]));
    }
    std::optional<std::string> current;
    if (reply->elements == 3 && reply->element[1]->integer == 1) {
      current = std::string(ReplyText(*reply->element[2]));
    }
    BACKENDS_RETURN_IF_ERROR(CheckWriteCondition(key, condition, current));
    return InternalError(what + ": the server refused a condition it meets");
  }

  Result<std::optional<std::string>> load_range(
      std::string_view key, std::uint64_t offset,
      std::uint64_t length) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("load_range", key));
    const std::string what = Quoted("load_range", key);
    // Redis offsets are signed 64-bit; no value reaches 2^62 bytes.
    constexpr std::uint64_t kFar = std::uint64_t{1} << 62;
    if (length == 0 || offset >= kFar) {
      BACKENDS_ASSIGN_OR_RETURN(bool present, contains(key));
      if (!present) return std::optional<std::string>();
      return std::optional<std::string>(std::string());
    }
    const std::uint64_t last = std::min(offset + std::min(length, kFar), kFar) - 1;
    const std::string name = Name(key);
    const std::string from = std::to_string(offset);
    const std::string to = std::to_string(last);
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply, transport_->RunOne({"EVAL", kRangeScript, "1", name, from, to},
                                    Idempotent::kYes, what));
    return ValueOf(*reply, what);
  }

  Result<bool> copy(std::string_view src_key, std::string_view dst_key) override {
    return Move("copy", src_key, dst_key);
  }
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override {
    return Move("rename", src_key, dst_key);
  }

  Result<bool> remove(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
    const std::string name = Name(key);
    const std::string what = Quoted("remove", key);
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply, transport_->RunOne({"UNLINK", name}, Idempotent::kYes, what));
    BACKENDS_RETURN_IF_ERROR(Check(*reply, what));
    return reply->integer > 0;
  }

  Result<bool> contains(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("contains", key));
    const std::string name = Name(key);
    const std::string what = Quoted("contains", key);
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply, transport_->RunOne({"EXISTS", name}, Idempotent::kYes, what));
    BACKENDS_RETURN_IF_ERROR(Check(*reply, what));
    return reply->integer > 0;
  }

  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("stat", key));
    std::string name = Name(key);
    BACKENDS_ASSIGN_OR_RETURN(auto infos,
                              Infos(std::span(&name, 1), Quoted("stat", key)));
    return std::move(infos.front());
  }

  Result<std::vector<std::string>> list(std::string_view prefix) override {
    std::vector<std::string> keys;
    BACKENDS_RETURN_IF_ERROR(Scan(prefix, "list", [&](std::string_view name) {
      std::string_view key = name.substr(options_.prefix.size());
      // Temporary keys (and keys other programs wrote that no store may
      // hold) are not listed: they could not be loaded.
      if (ValidateKey("list", key).ok()) keys.emplace_back(key);
    }));
    std::sort(keys.begin(), keys.end());
    // SCAN may return a key more than once.
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override {
    BACKENDS_ASSIGN_OR_RETURN(auto all, Sorted(prefix, start_after));
    auto first = std::upper_bound(all->begin(), all->end(), start_after);
    const auto count = std::min<std::size_t>(
        std::max<std::size_t>(limit, 1),
        static_cast<std::size_t>(all->end() - first));
    KeyPage page;
    page.keys.assign(first, first + static_cast<std::ptrdiff_t>(count));
    page.more = first + static_cast<std::ptrdiff_t>(count) != all->end();
    if (page.more) Keep(prefix, page.keys.back(), all);
    return page;
  }

  Result<EntryPage> list_entries(const ListRequest& request) override {
    BACKENDS_ASSIGN_OR_RETURN(auto sorted,
                              Sorted(request.prefix, request.start_after));
    const std::vector<std::string>& all = *sorted;
    const std::size_t limit = std::max<std::size_t>(request.limit, 1);
    // The page's shape first, from the keys alone; then every entry's size
    // in one pipeline.
    EntryPage page;
    std::vector<std::string> names;
    auto it = std::upper_bound(all.begin(), all.end(), request.start_after);
    for (; it != all.end(); ++it) {
      if (page.entries.size() + page.common_prefixes.size() == limit) {
        page.more = true;
        break;
      }
      if (!request.delimiter.empty()) {
        const auto cut = it->find(request.delimiter, request.prefix.size());
        if (cut != std::string::npos) {
          std::string common = it->substr(0, cut + request.delimiter.size());
          if (page.common_prefixes.empty() ||
              page.common_prefixes.back() != common) {
            page.resume_after = common + '\xff';
            page.common_prefixes.push_back(std::move(common));
          }
          continue;
        }
      }
      page.resume_after = *it;
      names.push_back(Name(*it));
      page.entries.push_back(ListEntry{*it, {}});
    }
    if (page.more) Keep(request.prefix, page.resume_after, sorted);
    BACKENDS_ASSIGN_OR_RETURN(auto infos, Infos(names, "list"));
    std::size_t kept = 0;
    for (std::size_t i = 0; i < infos.size(); ++i) {
      if (!infos[i]) continue;  // removed since the listing
      page.entries[i].info = std::move(*infos[i]);
      if (kept != i) page.entries[kept] = std::move(page.entries[i]);
      ++kept;
    }
    page.entries.resize(kept);
    return page;
  }

  Result<std::size_t> size() override {
    if (!options_.prefix.empty()) {
      BACKENDS_ASSIGN_OR_RETURN(auto keys, list(""));
      return keys.size();
    }
    std::size_t total = 0;
    const Status counted = transport_->ForEachMaster(
        "size", [&](redis::Transport& master) -> Status {
          BACKENDS_ASSIGN_OR_RETURN(
              Reply reply, master.RunOne({"DBSIZE"}, Idempotent::kYes, "size"));
          BACKENDS_RETURN_IF_ERROR(Check(*reply, "size"));
          total += static_cast<std::size_t>(reply->integer);
          return Status::OK();
        });
    BACKENDS_RETURN_IF_ERROR(counted);
    return total;
  }

  Result<std::vector<Entry>> items() override {
    BACKENDS_ASSIGN_OR_RETURN(auto keys, list(""));
    auto values = load_many(keys);
    std::vector<Entry> out;
    out.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!values[i].ok()) return values[i].status();
      if (*values[i]) out.emplace_back(std::move(keys[i]), std::move(**values[i]));
    }
    return out;
  }

  Status clear() override {
    std::vector<std::string> found;
    auto unlink = [&]() -> Status {
      if (found.empty()) return Status::OK();
      // One UNLINK per key, pipelined: on a cluster each goes to its slot.
      std::vector<Command> commands;
      commands.reserve(found.size());
      for (const auto& name : found) commands.push_back({"UNLINK", name});
      BACKENDS_ASSIGN_OR_RETURN(
          auto replies, transport_->Run(commands, Idempotent::kYes, "clear"));
      found.clear();
      for (const auto& reply : replies) {
        BACKENDS_RETURN_IF_ERROR(Check(*reply, "clear"));
      }
      return Status::OK();
    };
    Status unlinked;
    BACKENDS_RETURN_IF_ERROR(Scan("", "clear", [&](std::string_view name) {
      found.emplace_back(name);
      if (found.size() >= kBatch && unlinked.ok()) unlinked = unlink();
    }));
    BACKENDS_RETURN_IF_ERROR(unlinked);
    return unlink();
  }

  std::vector<Result<std::optional<std::string>>> load_many(
      std::span<const std::string> keys) override {
    std::vector<Result<std::optional<std::string>>> out(
        keys.size(), Result<std::optional<std::string>>(std::nullopt));
    const Accepted accepted = Accept(keys.size(), [&](std::size_t i) {
      return ValidateKey("load", keys[i]);
    }, [&](std::size_t i) -> const std::string& { return keys[i]; }, out);
    RunBatch(accepted, "load_many",
             [&](std::size_t, const std::string& name) -> Command {
               return {"GET", name};
             },
             [&](std::size_t i, Result<const redisReply*> reply) {
               if (!reply.ok()) out[i] = reply.status();
               else out[i] = ValueOf(**reply, Quoted("load", keys[i]));
             });
    return out;
  }

  std::vector<Status> dump_many(
      std::span<const std::pair<std::string, std::string>> items) override {
    std::vector<Status> out(items.size());
    const Accepted accepted = Accept(items.size(), [&](std::size_t i) {
      BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", items[i].first));
      return CheckSize(Quoted("dump", items[i].first), items[i].second.size());
    }, [&](std::size_t i) -> const std::string& { return items[i].first; }, out);
    RunBatch(accepted, "dump_many",
             [&](std::size_t i, const std::string& name) -> Command {
               return {"SET", name, items[i].second};
             },
             [&](std::size_t i, Result<const redisReply*> reply) {
               out[i] = reply.ok() ? Check(**reply, Quoted("dump", items[i].first))
                                   : reply.status();
             });
    return out;
  }

  std::vector<Result<bool>> remove_many(
      std::span<const std::string> keys) override {
    std::vector<Result<bool>> out(keys.size(), Result<bool>(false));
    const Accepted accepted = Accept(keys.size(), [&](std::size_t i) {
      return ValidateKey("remove", keys[i]);
    }, [&](std::size_t i) -> const std::string& { return keys[i]; }, out);
    RunBatch(accepted, "remove_many",
             [&](std::size_t, const std::string& name) -> Command {
               return {"UNLINK", name};
             },
             [&](std::size_t i, Result<const redisReply*> reply) {
               Status status = reply.ok()
                                   ? Check(**reply, Quoted("remove", keys[i]))
                                   : reply.status();
               out[i] = status.ok() ? Result<bool>((*reply)->integer > 0)
                                    : Result<bool>(status);
             });
    return out;
  }

  Status dump_stream(std::string_view key, ByteSource& source) override;
  Result<bool> load_stream(std::string_view key, ByteSink& sink) override;

  std::string url() const override {
    std::string query;
    if (!options_.prefix.empty()) {
      query = "prefix=" + PercentEncode(options_.prefix, "/");
    }
    if (!options_.unix_socket.empty()) {
      std::string url = "redis+unix://" + PercentEncode(options_.unix_socket, "/");
      if (options_.db != 0) {
        query = "db=" + std::to_string(options_.db) +
                (query.empty() ? "" : "&" + query);
      }
      return query.empty() ? url : url + "?" + query;
    }
    if (options_.cluster) {
      query = "cluster=1" + (query.empty() ? "" : "&" + query);
      if (options_.wait_replicas > 0) {
        query += "&wait_replicas=" + std::to_string(options_.wait_replicas);
      }
    }
    if (options_.tls) {
      const std::pair<const char*, const std::string*> files[] = {
          {"cacert", &options_.tls_ca_file},
          {"cert", &options_.tls_cert_file},
          {"key", &options_.tls_key_file}};
      for (const auto& [name, path] : files) {
        if (path->empty()) continue;
        query += (query.empty() ? "" : "&") + std::string(name) + "=" +
                 PercentEncode(*path, "/");
      }
      if (options_.tls_insecure) query += query.empty() ? "insecure=1" : "&insecure=1";
    }
    std::string url = options_.tls ? "rediss://" : "redis://";
    if (!options_.user.empty()) url += PercentEncode(options_.user) + "@";
    url += options_.host.find(':') != std::string::npos
               ? "[" + options_.host + "]"
               : options_.host;
    url += ":" + std::to_string(options_.port);
    if (options_.db != 0) url += "/" + std::to_string(options_.db);
    return query.empty() ? url : url + "?" + query;
  }

 private:
  std::string Name(std::string_view key) const {
    std::string name;
    name.reserve(options_.prefix.size() + key.size());
    name += options_.prefix;
    name += key;
    return name;
  }

  Status Check(const redisReply& reply, std::string_view what) const {
    return redis::ReplyStatus(reply, what, transport_->where());
  }

  Status CheckSize(std::string_view what, std::uint64_t size) const {
    if (size <= options_.max_value_bytes) return Status::OK();
    return InvalidArgumentError(
        std::string(what) + ": the value (" + std::to_string(size) +
        " bytes) is larger than Redis takes (" +
        std::to_string(options_.max_value_bytes) + " bytes)");
  }

  Result<std::optional<std::string>> ValueOf(const redisReply& reply,
                                             std::string_view what) const {
    BACKENDS_RETURN_IF_ERROR(Check(reply, what));
    if (reply.type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (reply.type != REDIS_REPLY_STRING) {
      return InternalError(std::string(what) + ": unexpected reply type " +
                           std::to_string(reply.type));
    }
    return std::optional<std::string>(std::string(ReplyText(reply)));
  }

  // copy or rename in one server-side script (atomic on one server).
  Result<bool> Move(std::string_view verb, std::string_view src_key,
                    std::string_view dst_key) {
    BACKENDS_RETURN_IF_ERROR(ValidateKey(verb, src_key));
    BACKENDS_RETURN_IF_ERROR(ValidateKey(verb, dst_key));
    const std::string what = Quoted(verb, src_key);
    const std::string from = Name(src_key);
    const std::string to = Name(dst_key);
    // Keys in two slots of a cluster: no script may touch both, so the
    // value is read and written (not atomic; the expiry is not kept).
    if (options_.cluster && redis::KeySlot(from) != redis::KeySlot(to)) {
      return verb == "copy" ? Backend::copy(src_key, dst_key)
                            : Backend::rename(src_key, dst_key);
    }
    // A copy may be resent; a rename resent after its lost reply would
    // find the source gone and answer false.
    BACKENDS_ASSIGN_OR_RETURN(
        Reply reply,
        transport_->RunOne({"EVAL", kMoveScript, "2", from, to, verb},
                       verb == "copy" ? Idempotent::kYes : Idempotent::kNo,
                       what));
    BACKENDS_RETURN_IF_ERROR(Check(*reply, what));
    return reply->integer == 1;
  }

  // The size and version of each named value, or nullopt when it is
  // missing, from a script run by the server per key (one pipeline): the
  // value's bytes never cross the network.
  Result<std::vector<std::optional<KeyInfo>>> Infos(
      std::span<const std::string> names, std::string_view what) {
    std::vector<std::optional<KeyInfo>> out;
    out.reserve(names.size());
    Status failed;
    ForChunks(names, [&](std::size_t first, std::size_t count) {
      if (!failed.ok()) return;
      std::vector<Command> commands;
      for (std::size_t j = first; j < first + count; ++j) {
        commands.push_back({"EVAL", kStatScript, "1", names[j]});
      }
      auto replies = transport_->Run(commands, Idempotent::kYes, what);
      if (!replies.ok()) {
        failed = replies.status();
        return;
      }
      for (std::size_t j = 0; j < count && failed.ok(); ++j) {
        const redisReply& reply = *(*replies)[j];
        failed = Check(reply, what);
        if (!failed.ok()) break;
        if (reply.type != REDIS_REPLY_ARRAY) {
          out.emplace_back();
          continue;
        }
        if (reply.elements != 2) {
          failed = InternalError(std::string(what) + ": unexpected reply");
          break;
        }
        out.push_back(KeyInfo{
            .size = static_cast<std::uint64_t>(reply.element[0]->integer),
            .version = std::string(ReplyText(*reply.element[1]))});
      }
    });
    BACKENDS_RETURN_IF_ERROR(failed);
    return out;
  }

  // The inputs of a batch that pass `check` (the others get its error in
  // `out`), with their full names.
  struct Accepted {
    std::vector<std::size_t> inputs;
    std::vector<std::string> names;
  };
  template <typename CheckInput, typename KeyOf, typename Out>
  Accepted Accept(std::size_t count, CheckInput check, KeyOf key_of,
                  std::vector<Out>& out) const {
    Accepted accepted;
    for (std::size_t i = 0; i < count; ++i) {
      if (Status status = check(i); !status.ok()) {
        out[i] = std::move(status);
        continue;
      }
      accepted.inputs.push_back(i);
      accepted.names.push_back(Name(key_of(i)));
    }
    return accepted;
  }

  // Sends one command per accepted input, in pipelines of kBatch, and hands
  // each input's reply (or its pipeline's failure) to `answer`.
  template <typename MakeCommand, typename Answer>
  void RunBatch(const Accepted& accepted, std::string_view what,
                MakeCommand make, Answer answer) {
    ForChunks(accepted.names, [&](std::size_t first, std::size_t count) {
      std::vector<Command> commands;
      for (std::size_t j = first; j < first + count; ++j) {
        commands.push_back(make(accepted.inputs[j], accepted.names[j]));
      }
      auto replies = transport_->Run(commands, Idempotent::kYes, what);
      for (std::size_t j = 0; j < count; ++j) {
        answer(accepted.inputs[first + j],
               replies.ok() ? Result<const redisReply*>((*replies)[j].get())
                            : Result<const redisReply*>(replies.status()));
      }
    });
  }

  template <typename Visit>
  void ForChunks(std::span<const std::string> names, Visit visit) const {
    for (std::size_t first = 0; first < names.size(); first += kBatch) {
      visit(first, std::min(kBatch, names.size() - first));
    }
  }

  // Calls `visit` with the full name of every key under the store's prefix
  // followed by `prefix` (possibly more than once, as SCAN does, and as a
  // cluster's master scanned again after a failover does).
  template <typename Visit>
  Status Scan(std::string_view prefix, std::string_view what, Visit visit) {
    const std::string match = GlobPrefix(Name(prefix));
    const std::string count = std::to_string(kBatch);
    // Every master in turn (a failover may start one again from 0).
    return transport_->ForEachMaster(
        what, [&](redis::Transport& master) -> Status {
          std::string cursor = "0";
          do {
            BACKENDS_ASSIGN_OR_RETURN(
                Reply reply,
                master.RunOne({"SCAN", cursor, "MATCH", match, "COUNT", count},
                              Idempotent::kYes, what));
            BACKENDS_RETURN_IF_ERROR(Check(*reply, what));
            if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
              return InternalError(std::string(what) + ": unexpected SCAN reply");
            }
            cursor.assign(ReplyText(*reply->element[0]));
            const redisReply& names = *reply->element[1];
            for (std::size_t i = 0; i < names.elements; ++i) {
              visit(ReplyText(*names.element[i]));
            }
          } while (cursor != "0");
          return Status::OK();
        });
  }

  Status DumpPieces(std::string_view what, const std::string& temporary,
                    ByteSource& source);

  // SCAN returns keys in no order, so a sorted listing reads them all once.
  // A paged listing keeps that sorted snapshot for its next pages (a page
  // that continues where one ended, within a minute), so reading N keys in
  // pages scans once, not once per page; a listing that starts anew scans
  // anew. Keys written after the snapshot are not seen by that listing;
  // removed ones are dropped by list_entries (its stat) and by loads.
  using SortedKeys = std::shared_ptr<const std::vector<std::string>>;
  struct Snapshot {
    std::string prefix;
    std::string resume_after;
    SortedKeys keys;
    std::chrono::steady_clock::time_point taken;
  };
  static constexpr std::size_t kSnapshots = 4;  // listings paged at once
  static constexpr std::chrono::seconds kSnapshotLife{60};

  Result<SortedKeys> Sorted(std::string_view prefix,
                            std::string_view start_after) {
    if (!start_after.empty()) {
      std::lock_guard lock(snapshots_mutex_);
      const auto now = std::chrono::steady_clock::now();
      for (Snapshot& snapshot : snapshots_) {
        if (snapshot.keys && snapshot.prefix == prefix &&
            snapshot.resume_after == start_after &&
            now - snapshot.taken < kSnapshotLife) {
          return std::exchange(snapshot.keys, nullptr);
        }
      }
    }
    BACKENDS_ASSIGN_OR_RETURN(auto keys, list(prefix));
    return std::make_shared<const std::vector<std::string>>(std::move(keys));
  }

  void Keep(std::string_view prefix, std::string_view resume_after,
            SortedKeys keys) {
    std::lock_guard lock(snapshots_mutex_);
    Snapshot* slot = &snapshots_.front();
    for (Snapshot& snapshot : snapshots_) {
      if (!snapshot.keys) {
        slot = &snapshot;
        break;
      }
      if (snapshot.taken < slot->taken) slot = &snapshot;
    }
    *slot = Snapshot{std::string(prefix), std::string(resume_after),
                     std::move(keys), std::chrono::steady_clock::now()};
  }

  const RedisOptions options_;
  const std::unique_ptr<redis::Transport> transport_;
  std::mutex snapshots_mutex_;
  std::array<Snapshot, kSnapshots> snapshots_;
};

// The value is written into a temporary key next to the real one (a name
// no store key can have: it holds control characters), then renamed into
// place in one MULTI, so a reader sees the old value or the whole new one.
// Each piece is a SETRANGE at its offset, idempotent, so it is resent
// after a lost connection; PEXPIRE before it both keeps an abandoned key
// from living forever and notices a temporary key the server lost.
Status RedisStore::dump_stream(std::string_view key, ByteSource& source) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  const std::string what = Quoted("dump", key);
  if (auto size = source.size()) BACKENDS_RETURN_IF_ERROR(CheckSize(what, *size));
  const std::string temporary =
      transport_->NextTo(Name(key), "\x01tmp\x01" + RandomSuffix());
  Status status = DumpPieces(what, temporary, source);
  if (status.ok()) {
    const std::string name = Name(key);
    const std::vector<Command> commit = {
        {"MULTI"}, {"RENAME", temporary, name}, {"PERSIST", name}, {"EXEC"}};
    auto replies = transport_->Run(commit, Idempotent::kNo, what);
    if (!replies.ok()) {
      status = replies.status();
    } else {
      const redisReply& exec = *replies->back();
      status = Check(exec, what);
      if (status.ok() && exec.type == REDIS_REPLY_ARRAY && exec.elements > 0) {
        status = Check(*exec.element[0], what);
      }
    }
  }
  if (!status.ok()) {
    // Best effort: the key expires anyway.
    (void)transport_->RunOne({"UNLINK", temporary}, Idempotent::kYes, what);
  }
  return status;
}

Status RedisStore::DumpPieces(std::string_view what,
                              const std::string& temporary,
                              ByteSource& source) {
  BACKENDS_ASSIGN_OR_RETURN(
      Reply created,
      transport_->RunOne({"SET", temporary, "", "PX", kTemporaryLifetimeMs},
                     Idempotent::kYes, what));
  BACKENDS_RETURN_IF_ERROR(Check(*created, what));
  std::string piece(1 << 20, '\0');
  std::uint64_t offset = 0;
  while (true) {
    BACKENDS_ASSIGN_OR_RETURN(std::size_t n, source.Read(piece));
    if (n == 0) return Status::OK();
    BACKENDS_RETURN_IF_ERROR(CheckSize(what, offset + n));
    const std::string at = std::to_string(offset);
    const std::vector<Command> commands = {
        {"PEXPIRE", temporary, kTemporaryLifetimeMs},
        {"SETRANGE", temporary, at, std::string_view(piece.data(), n)}};
    BACKENDS_ASSIGN_OR_RETURN(auto replies,
                              transport_->Run(commands, Idempotent::kYes, what));
    BACKENDS_RETURN_IF_ERROR(Check(*replies[0], what));
    BACKENDS_RETURN_IF_ERROR(Check(*replies[1], what));
    if (replies[0]->integer == 0) {
      return UnavailableError(std::string(what) + ": " + transport_->where() +
                              " lost the partly written value (restarted?)");
    }
    offset += n;
  }
}

// A value of up to one piece is one GET. A larger one is copied inside the
// server to a temporary key first (COPY), and read from there by GETRANGE:
// a concurrent dump of the key cannot tear what is read.
Result<bool> RedisStore::load_stream(std::string_view key, ByteSink& sink) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
  std::string name = Name(key);
  const std::string what = Quoted("load", key);
  BACKENDS_ASSIGN_OR_RETURN(
      Reply length, transport_->RunOne({"STRLEN", name}, Idempotent::kYes, what));
  BACKENDS_RETURN_IF_ERROR(Check(*length, what));
  if (static_cast<std::uint64_t>(length->integer) <= kStreamPiece) {
    BACKENDS_ASSIGN_OR_RETURN(auto value, load(key));
    if (!value) return false;
    BACKENDS_RETURN_IF_ERROR(sink.Write(*value));
    return true;
  }
  const std::string snapshot =
      transport_->NextTo(name, "\x01snap\x01" + RandomSuffix());
  const std::vector<Command> copy = {
      {"COPY", name, snapshot}, {"PEXPIRE", snapshot, kTemporaryLifetimeMs}};
  BACKENDS_ASSIGN_OR_RETURN(auto copied,
                            transport_->Run(copy, Idempotent::kNo, what));
  BACKENDS_RETURN_IF_ERROR(Check(*copied[0], what));
  if (copied[0]->integer == 0) return false;  // removed meanwhile
  Status status;
  for (std::uint64_t offset = 0; status.ok();) {
    const std::string from = std::to_string(offset);
    const std::string to = std::to_string(offset + kStreamPiece - 1);
    auto reply =
        transport_->RunOne({"GETRANGE", snapshot, from, to}, Idempotent::kYes, what);
    if (!reply.ok()) {
      status = reply.status();
      break;
    }
    status = Check(**reply, what);
    if (!status.ok() || (*reply)->len == 0) break;
    status = sink.Write(ReplyText(**reply));
    offset += (*reply)->len;
    if ((*reply)->len < kStreamPiece) break;
  }
  (void)transport_->RunOne({"UNLINK", snapshot}, Idempotent::kYes, what);
  BACKENDS_RETURN_IF_ERROR(status);
  return true;
}

}  // namespace

Result<std::unique_ptr<RedisBackend>> NewRedisBackend(RedisOptions options) {
  if (options.unix_socket.empty() && options.host.empty()) {
    return InvalidArgumentError("redis: needs a host or a Unix socket");
  }
  if (options.port <= 0 || options.port > 65535) {
    return InvalidArgumentError("redis: bad port " +
                                std::to_string(options.port));
  }
  if (options.db < 0) return InvalidArgumentError("redis: bad db number");
  if (options.cluster && (options.db != 0 || !options.unix_socket.empty())) {
    return InvalidArgumentError(
        "redis: a cluster is reached by host:port and has only db 0");
  }
  if (options.tls && !options.unix_socket.empty()) {
    return InvalidArgumentError("redis: TLS is for host:port, not a Unix socket");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgumentError(
        "redis: a TLS client certificate needs both a cert and a key file");
  }
  auto store = std::make_unique<RedisStore>(std::move(options));
  BACKENDS_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<RedisBackend>(std::move(store));
}

}  // namespace backends
