#include "redis/redis_cluster.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace backends::redis {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<std::uint16_t, 256> MakeCrcTable() {
  std::array<std::uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021
                                                      : crc << 1);
    }
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrcTable = MakeCrcTable();

std::uint16_t Crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<std::uint16_t>((crc << 8) ^
                                     kCrcTable[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

bool StartsWith(std::string_view text, std::string_view head) {
  return text.substr(0, head.size()) == head;
}

// For every slot, a short tag that hashes to it: "{tag}..." lies there.
const std::vector<std::string>& SlotTags() {
  static const auto* tags = [] {
    auto* out = new std::vector<std::string>(kClusterSlots);
    int filled = 0;
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (unsigned n = 0; filled < kClusterSlots; ++n) {
      std::string tag;
      for (unsigned v = n;; v /= 36) {
        tag += kDigits[v % 36];
        if (v < 36) break;
      }
      std::string& slot = (*out)[Crc16(tag) % kClusterSlots];
      if (slot.empty()) {
        slot = std::move(tag);
        ++filled;
      }
    }
    return out;
  }();
  return *tags;
}

// The key a command acts on, or nullopt (MULTI, EXEC, EVAL without keys).
std::optional<std::string_view> KeyOf(const Command& command) {
  const std::string_view verb = command[0];
  if (verb == "MULTI" || verb == "EXEC" || verb == "ASKING") return std::nullopt;
  if (verb == "EVAL" || verb == "EVALSHA") {
    if (command.size() < 4 || command[2] == "0") return std::nullopt;
    return command[3];
  }
  if (command.size() < 2) return std::nullopt;
  return command[1];
}

bool IsWrite(std::string_view verb) {
  for (std::string_view write : {"SET", "UNLINK", "DEL", "SETRANGE", "PEXPIRE",
                                 "COPY", "RENAME", "PERSIST", "RESTORE", "EVAL",
                                 "EVALSHA", "EXEC"}) {
    if (verb == write) return true;
  }
  return false;
}

// "MOVED 3999 127.0.0.1:6381" / "ASK ...": the slot and the node.
bool ParseRedirect(std::string_view text, int& slot, std::string& host,
                   int& port) {
  const std::size_t first = text.find(' ');
  const std::size_t second = text.find(' ', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) {
    return false;
  }
  const std::string_view address = text.substr(second + 1);
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  try {
    slot = std::stoi(std::string(text.substr(first + 1, second - first - 1)));
    port = std::stoi(std::string(address.substr(colon + 1)));
  } catch (...) {
    return false;
  }
  host = std::string(address.substr(0, colon));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return slot >= 0 && slot < kClusterSlots;
}

std::string Seed(const RedisOptions& options) {
  return "redis cluster " + options.host + ":" + std::to_string(options.port);
}

}  // namespace

int KeySlot(std::string_view key) {
  const std::size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const std::size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kClusterSlots;
}

struct ClusterClient::Node {
  std::string host;
  int port;
  std::unique_ptr<Client> client;
};

// Commands that go together to one node: one command, or MULTI ... EXEC.
struct ClusterClient::Unit {
  std::size_t begin, end;  // in the caller's commands
  int slot = -1;           // -1: no key (any master)
  bool write = false;
  Client* ask = nullptr;   // after ASK: this node, each command after ASKING
};

ClusterClient::ClusterClient(RedisOptions options)
    : options_(std::move(options)), where_(Seed(options_)) {}

ClusterClient::~ClusterClient() = default;

Client* ClusterClient::NodeAt(const std::string& host, int port) {
  {
    std::shared_lock lock(mu_);
    for (const auto& node : nodes_) {
      if (node->host == host && node->port == port) return node->client.get();
    }
  }
  std::unique_lock lock(mu_);
  for (const auto& node : nodes_) {
    if (node->host == host && node->port == port) return node->client.get();
  }
  RedisOptions node_options = options_;
  node_options.host = host;
  node_options.port = port;
  // The cluster layer retries (after a refresh of the map); a node's own
  // client tries once.
  node_options.retry_budget = std::chrono::milliseconds(0);
  nodes_.push_back(std::make_unique<Node>(
      Node{host, port, std::make_unique<Client>(node_options)}));
  return nodes_.back()->client.get();
}

Client* ClusterClient::MasterOf(int slot) const {
  std::shared_lock lock(mu_);
  if (slot < 0) return masters_.empty() ? nullptr : masters_.front();
  return slots_[static_cast<std::size_t>(slot)];
}

Status ClusterClient::Refresh(std::string_view what) {
  std::lock_guard refresh(refresh_mu_);
  std::vector<Client*> candidates;
  {
    std::shared_lock lock(mu_);
    candidates = masters_;
    for (const auto& node : nodes_) {
      if (std::find(candidates.begin(), candidates.end(), node->client.get()) ==
          candidates.end()) {
        candidates.push_back(node->client.get());
      }
    }
  }
  if (candidates.empty()) {
    candidates.push_back(NodeAt(options_.host, options_.port));
  }
  static const std::string kSlots = [] {
    std::string wire;
    Encode({"CLUSTER", "SLOTS"}, wire);
    return wire;
  }();
  Status failure = UnavailableError(std::string(what) + ": " + where_ +
                                    ": no node answers");
  for (Client* candidate : candidates) {
    Sent sent = candidate->Start(kSlots, 1, what);
    auto replies = candidate->Finish(sent, what);
    if (!replies.ok()) {
      failure = replies.status();
      continue;
    }
    const redisReply& reply = *replies->front();
    if (Status status = ReplyStatus(reply, what, candidate->where());
        !status.ok()) {
      // Not a cluster node, or wrong credentials: no other node helps.
      if (status.code() != ErrorCode::kUnavailable) {
        if (ReplyText(reply).find("cluster support disabled") !=
            std::string_view::npos) {
          return FailedPreconditionError(
              std::string(what) + ": " + candidate->where() +
              " is not a cluster node (cluster support disabled): drop "
              "?cluster=1");
        }
        return status;
      }
      failure = std::move(status);
      continue;
    }
    if (reply.type != REDIS_REPLY_ARRAY) {
      failure = InternalError(std::string(what) + ": unexpected CLUSTER SLOTS reply");
      continue;
    }
    std::array<Client*, kClusterSlots> slots{};
    std::vector<Client*> masters;
    for (std::size_t i = 0; i < reply.elements; ++i) {
      const redisReply& range = *reply.element[i];
      if (range.type != REDIS_REPLY_ARRAY || range.elements < 3 ||
          range.element[2]->type != REDIS_REPLY_ARRAY ||
          range.element[2]->elements < 2) {
        continue;
      }
      const redisReply& master = *range.element[2];
      std::string host(ReplyText(*master.element[0]));
      // An empty or "?" host: the one this node was reached at.
      if (host.empty() || host == "?") host = options_.host;
      Client* node = NodeAt(host, static_cast<int>(master.element[1]->integer));
      if (std::find(masters.begin(), masters.end(), node) == masters.end()) {
        masters.push_back(node);
      }
      const auto first = std::clamp<long long>(range.element[0]->integer, 0,
                                               kClusterSlots - 1);
      const auto last = std::clamp<long long>(range.element[1]->integer, 0,
                                              kClusterSlots - 1);
      for (long long slot = first; slot <= last; ++slot) {
        slots[static_cast<std::size_t>(slot)] = node;
      }
    }
    std::unique_lock lock(mu_);
    slots_ = slots;
    masters_ = std::move(masters);
    return Status::OK();
  }
  return failure;
}

Status ClusterClient::Check() {
  BACKENDS_RETURN_IF_ERROR(Refresh("open"));
  std::shared_lock lock(mu_);
  if (masters_.empty()) {
    return UnavailableError("open: " + where_ + ": the cluster has no slots assigned");
  }
  return Status::OK();
}

std::string ClusterClient::NextTo(std::string_view name,
                                  std::string_view suffix) const {
  return "{" + SlotTags()[static_cast<std::size_t>(KeySlot(name))] + "}" +
         std::string(name) + std::string(suffix);
}

Status ClusterClient::ForEachMaster(
    std::string_view what,
    const std::function<Status(Transport& master)>& visit) {
  BACKENDS_RETURN_IF_ERROR(Refresh(what));
  // Each master with a slot it serves: after a failover the slot names its
  // successor.
  std::vector<std::pair<Client*, int>> masters;
  {
    std::shared_lock lock(mu_);
    for (int slot = 0; slot < kClusterSlots; ++slot) {
      Client* node = slots_[static_cast<std::size_t>(slot)];
      if (node == nullptr) continue;
      const bool known = std::any_of(masters.begin(), masters.end(),
                                     [&](const auto& m) { return m.first == node; });
      if (!known) masters.emplace_back(node, slot);
    }
  }
  const auto deadline = Clock::now() + options_.retry_budget;
  auto backoff = std::chrono::milliseconds(20);
  for (auto [node, slot] : masters) {
    while (true) {
      Status status = node != nullptr
                          ? visit(*node)
                          : UnavailableError(std::string(what) + ": " + where_ +
                                             ": slot " + std::to_string(slot) +
                                             " has no master");
      if (status.ok()) break;
      if (status.code() != ErrorCode::kUnavailable) return status;
      if (Clock::now() >= deadline) {
        return UnavailableError(status.message() + " (retried for " +
                                std::to_string(options_.retry_budget.count()) +
                                " ms)");
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
      (void)Refresh(what);
      node = MasterOf(slot);
    }
  }
  return Status::OK();
}

Result<std::vector<Reply>> ClusterClient::Run(std::span<const Command> commands,
                                              Idempotent idempotent,
                                              std::string_view what) {
  std::vector<Unit> units;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    Unit unit{i, i + 1};
    if (commands[i][0] == "MULTI") {
      while (unit.end < commands.size() && commands[unit.end - 1][0] != "EXEC") {
        ++unit.end;
      }
    }
    for (std::size_t j = unit.begin; j < unit.end; ++j) {
      if (unit.slot < 0) {
        if (auto key = KeyOf(commands[j])) unit.slot = KeySlot(*key);
      }
      unit.write = unit.write || IsWrite(commands[j][0]);
    }
    i = unit.end - 1;
    units.push_back(unit);
  }
  {
    std::shared_lock lock(mu_);
    if (masters_.empty()) {
      lock.unlock();
      BACKENDS_RETURN_IF_ERROR(Refresh(what));
    }
  }
  std::vector<Reply> out(commands.size());
  std::vector<std::size_t> pending(units.size());
  for (std::size_t u = 0; u < units.size(); ++u) pending[u] = u;
  const auto deadline = Clock::now() + options_.retry_budget;
  auto backoff = std::chrono::milliseconds(20);
  const std::string wait_count = std::to_string(options_.wait_replicas);
  const std::string wait_ms = std::to_string(options_.wait_timeout.count());
  Status last;
  while (!pending.empty()) {
    // Group the pending units by node, in order.
    struct Batch {
      Client* node;
      std::vector<std::size_t> units;
      bool wait = false;
      Sent sent;
    };
    std::vector<Batch> batches;
    bool unrouted = false;
    std::vector<std::size_t> again;
    for (std::size_t u : pending) {
      Client* node = units[u].ask != nullptr ? units[u].ask : MasterOf(units[u].slot);
      if (node == nullptr) {
        unrouted = true;
        again.push_back(u);
        continue;
      }
      auto it = std::find_if(batches.begin(), batches.end(),
                             [&](const Batch& b) { return b.node == node; });
      if (it == batches.end()) {
        batches.push_back(Batch{node, {}});
        it = batches.end() - 1;
      }
      it->units.push_back(u);
      it->wait = it->wait || (units[u].write && options_.wait_replicas > 0);
    }
    if (unrouted) {
      last = UnavailableError(std::string(what) + ": " + where_ +
                              ": a slot has no master");
    }
    // Every node's part goes out before any reply is read.
    for (Batch& batch : batches) {
      std::size_t bytes = 64;  // ASKINGs and WAIT
      for (std::size_t u : batch.units) {
        for (std::size_t j = units[u].begin; j < units[u].end; ++j) {
          bytes += EncodedBound(commands[j]) + 32;
        }
      }
      std::string wire;
      wire.reserve(bytes);
      std::size_t count = 0;
      for (std::size_t u : batch.units) {
        for (std::size_t j = units[u].begin; j < units[u].end; ++j) {
          if (units[u].ask != nullptr) {
            Encode({"ASKING"}, wire);
            ++count;
          }
          Encode(commands[j], wire);
          ++count;
        }
      }
      if (batch.wait) {
        Encode({"WAIT", wait_count, wait_ms}, wire);
        ++count;
      }
      batch.sent = batch.node->Start(wire, count, what);
    }
    bool refresh = unrouted;
    bool pause = unrouted;
    for (Batch& batch : batches) {
      Failure failure;
      auto replies = batch.node->Finish(batch.sent, what, &failure);
      if (!replies.ok()) {
        const bool may_retry =
            failure.sent_nothing ||
            (idempotent == Idempotent::kYes &&
             failure.status.code() == ErrorCode::kUnavailable);
        if (!may_retry) return failure.status;
        last = failure.status;
        refresh = true;
        pause = pause || !failure.stale;
        for (std::size_t u : batch.units) units[u].ask = nullptr;
        again.insert(again.end(), batch.units.begin(), batch.units.end());
        continue;
      }
      if (batch.wait) {
        const redisReply& acked = *replies->back();
        if (acked.type != REDIS_REPLY_INTEGER ||
            acked.integer < options_.wait_replicas) {
          Status short_of_replicas = UnavailableError(
              std::string(what) + ": written on " + batch.node->where() +
              " but confirmed by " +
              std::to_string(acked.type == REDIS_REPLY_INTEGER ? acked.integer : 0) +
              " of " + wait_count + " replicas within " + wait_ms + " ms");
          // An idempotent write is sent again (its replica may be
          // resyncing after a failover); another must not be.
          if (idempotent == Idempotent::kNo) return short_of_replicas;
          last = std::move(short_of_replicas);
          pause = refresh = true;
          for (std::size_t u : batch.units) units[u].ask = nullptr;
          again.insert(again.end(), batch.units.begin(), batch.units.end());
          continue;
        }
      }
      std::size_t at = 0;
      for (std::size_t u : batch.units) {
        Unit& unit = units[u];
        bool redirected = false;
        Client* ask = nullptr;
        std::vector<Reply> got;
        for (std::size_t j = unit.begin; j < unit.end; ++j) {
          if (unit.ask != nullptr) ++at;  // ASKING's +OK
          Reply& reply = (*replies)[at++];
          if (reply->type == REDIS_REPLY_ERROR) {
            const std::string_view text = ReplyText(*reply);
            int slot = 0, port = 0;
            std::string host;
            if (StartsWith(text, "MOVED ") && ParseRedirect(text, slot, host, port)) {
              Client* node = NodeAt(host, port);
              std::unique_lock lock(mu_);
              slots_[static_cast<std::size_t>(slot)] = node;
              if (std::find(masters_.begin(), masters_.end(), node) == masters_.end()) {
                refresh = true;
              }
              redirected = true;
            } else if (StartsWith(text, "ASK ") &&
                       ParseRedirect(text, slot, host, port)) {
              // Inside MULTI, ASKING would be queued: wait for the
              // migration to end instead.
              if (unit.end - unit.begin == 1) {
                ask = NodeAt(host, port);
              } else {
                pause = true;
              }
              redirected = true;
            } else if (StartsWith(text, "TRYAGAIN") ||
                       StartsWith(text, "CLUSTERDOWN") ||
                       StartsWith(text, "LOADING") ||
                       StartsWith(text, "MASTERDOWN")) {
              // Not run: safe to send again, after a pause.
              last = ReplyStatus(*reply, what, batch.node->where());
              pause = refresh = redirected = true;
            }
          }
          got.push_back(std::move(reply));
        }
        if (redirected) {
          unit.ask = ask;
          again.push_back(u);
          continue;
        }
        for (std::size_t j = unit.begin; j < unit.end; ++j) {
          out[j] = std::move(got[j - unit.begin]);
        }
      }
    }
    pending = std::move(again);
    if (pending.empty()) break;
    if (Clock::now() >= deadline) {
      if (last.ok()) last = UnavailableError(std::string(what) + ": " + where_ +
                                             ": redirected too often");
      return UnavailableError(last.message() + " (retried for " +
                              std::to_string(options_.retry_budget.count()) +
                              " ms)");
    }
    std::sort(pending.begin(), pending.end());
    if (pause) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
    }
    if (refresh) (void)Refresh(what);
  }
  return out;
}

}  // namespace backends::redis
