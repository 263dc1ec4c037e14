#include "redis/redis_client.h"

#include <algorithm>
#include <thread>

namespace backends::redis {
namespace {

using Clock = std::chrono::steady_clock;

std::string Where(const RedisOptions& options) {
  if (!options.unix_socket.empty()) return "redis " + options.unix_socket;
  const bool v6 = options.host.find(':') != std::string::npos;
  return (options.tls ? "rediss " : "redis ") +
         (v6 ? "[" + options.host + "]" : options.host) + ":" +
         std::to_string(options.port);
}

bool StartsWith(std::string_view text, std::string_view head) {
  return text.substr(0, head.size()) == head;
}

// Replies that say "not now": the same command succeeds later.
bool IsTransientReply(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return false;
  const std::string_view text = ReplyText(reply);
  return StartsWith(text, "LOADING") || StartsWith(text, "TRYAGAIN") ||
         StartsWith(text, "MASTERDOWN");
}

}  // namespace

std::size_t EncodedBound(const Command& command) {
  std::size_t bytes = 16;
  for (std::string_view arg : command) bytes += arg.size() + 16;
  return bytes;
}

void Encode(const Command& command, std::string& wire) {
  wire += '*';
  wire += std::to_string(command.size());
  wire += "\r\n";
  for (std::string_view arg : command) {
    wire += '$';
    wire += std::to_string(arg.size());
    wire += "\r\n";
    wire += arg;
    wire += "\r\n";
  }
}

Status ReplyStatus(const redisReply& reply, std::string_view what,
                   std::string_view where) {
  if (reply.type != REDIS_REPLY_ERROR) return Status::OK();
  const std::string_view text = ReplyText(reply);
  std::string message = std::string(what) + ": " + std::string(where) +
                        " answered: " + std::string(text);
  if (StartsWith(text, "WRONGPASS") || StartsWith(text, "NOAUTH") ||
      text.find("without any password configured") != std::string_view::npos) {
    return UnauthenticatedError(std::move(message));
  }
  if (StartsWith(text, "NOPERM")) return PermissionDeniedError(message);
  if (StartsWith(text, "WRONGTYPE")) {
    return FailedPreconditionError(std::move(message));
  }
  if (StartsWith(text, "LOADING") || StartsWith(text, "BUSY") ||
      StartsWith(text, "TRYAGAIN") || StartsWith(text, "MASTERDOWN") ||
      StartsWith(text, "CLUSTERDOWN") || StartsWith(text, "OOM") ||
      StartsWith(text, "NOREPLICAS")) {
    return UnavailableError(std::move(message));
  }
  return InternalError(std::move(message));
}

Client::Client(RedisOptions options)
    : options_(std::move(options)), where_(Where(options_)) {}

Client::~Client() = default;

Status Client::Named(const Status& status, std::string_view what) const {
  return status.WithContext(std::string(what) + ": " + where_);
}

Result<Client::ConnectionPtr> Client::Open(std::string_view what) {
  auto connected = connector_.Connect();
  if (!connected.ok()) return Named(connected.status(), what);
  ConnectionPtr connection = std::move(connected).value();
  std::vector<Command> setup;
  if (!options_.password.empty()) {
    if (options_.user.empty()) {
      setup.push_back({"AUTH", options_.password});
    } else {
      setup.push_back({"AUTH", options_.user, options_.password});
    }
  }
  const std::string db = std::to_string(options_.db);
  if (options_.db != 0) setup.push_back({"SELECT", db});
  // Under TLS 1.3 a server refuses a client certificate (or its absence)
  // after the handshake: one round trip shows it here rather than later.
  if (setup.empty() && options_.tls) setup.push_back({"PING"});
  std::string wire;
  for (const auto& command : setup) Encode(command, wire);
  std::size_t written = 0;
  if (Status status = connection->Write(wire, written); !status.ok()) {
    return Named(status, what);
  }
  for (const auto& command : setup) {
    bool eof = false;
    auto reply = connection->Read(eof);
    if (!reply.ok()) {
      return Named(reply.status(), std::string(what) + ": " +
                                       std::string(command[0]));
    }
    // The error text never holds the password: Redis answers WRONGPASS
    // with a fixed sentence.
    BACKENDS_RETURN_IF_ERROR(
        ReplyStatus(**reply, std::string(what) + ": " + std::string(command[0]),
                    where_));
  }
  return connection;
}

Client::ConnectionPtr Client::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  ConnectionPtr connection = std::move(idle_.back());
  idle_.pop_back();
  return connection;
}

void Client::GiveBack(ConnectionPtr connection) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections) {
    idle_.push_back(std::move(connection));
  }
}

Status Client::Check() {
  BACKENDS_ASSIGN_OR_RETURN(auto connection, Open("open"));
  GiveBack(std::move(connection));
  return Status::OK();
}

Sent Client::Start(std::string_view wire, std::size_t count,
                   std::string_view what) {
  Sent sent;
  sent.count = count;
  sent.connection = TakeIdle();
  sent.was_idle = sent.connection != nullptr;
  if (!sent.connection) {
    auto opened = Open(what);
    if (!opened.ok()) {
      sent.failure = opened.status();
      sent.nothing_sent = true;
      return sent;
    }
    sent.connection = std::move(opened).value();
  }
  std::size_t written = 0;
  if (Status status = sent.connection->Write(wire, written); !status.ok()) {
    sent.failure = Named(status, what);
    // A pooled connection the server had closed fails before any byte.
    sent.nothing_sent = sent.was_idle && written == 0;
    sent.connection.reset();
  }
  return sent;
}

Result<std::vector<Reply>> Client::Finish(Sent& sent, std::string_view what,
                                          Failure* failure) {
  Failure ignored;
  Failure& out = failure != nullptr ? *failure : ignored;
  if (!sent.failure.ok()) {
    out = {sent.failure, sent.nothing_sent, sent.was_idle && sent.nothing_sent};
    return sent.failure;
  }
  std::vector<Reply> replies;
  replies.reserve(sent.count);
  for (std::size_t i = 0; i < sent.count; ++i) {
    bool eof = false;
    auto reply = sent.connection->Read(eof);
    if (!reply.ok()) {
      out.status = Named(reply.status(), what);
      // An EOF before the first reply on a reused connection: the server
      // had closed it while idle, so nothing of the pipeline reached it.
      out.stale = sent.was_idle && i == 0 && eof;
      out.sent_nothing = out.stale;
      sent.connection.reset();
      return out.status;
    }
    replies.push_back(std::move(reply).value());
  }
  GiveBack(std::move(sent.connection));
  return replies;
}

Result<std::vector<Reply>> Client::Run(std::span<const Command> commands,
                                       Idempotent idempotent,
                                       std::string_view what) {
  const auto deadline = Clock::now() + options_.retry_budget;
  auto backoff = std::chrono::milliseconds(20);
  std::size_t bytes = 0;
  for (const auto& command : commands) bytes += EncodedBound(command);
  std::string wire;
  wire.reserve(bytes);
  for (const auto& command : commands) Encode(command, wire);
  while (true) {
    Sent sent = Start(wire, commands.size(), what);
    Failure failure;
    auto replies = Finish(sent, what, &failure);
    if (replies.ok()) {
      const bool transient =
          std::any_of(replies->begin(), replies->end(),
                      [](const Reply& r) { return IsTransientReply(*r); });
      if (!transient || idempotent == Idempotent::kNo ||
          Clock::now() >= deadline) {
        return replies;
      }
      failure = {UnavailableError("transient reply"), false, false};
    }
    const Status& status = failure.status;
    // Errors that another try cannot mend end the call now.
    if (status.code() != ErrorCode::kUnavailable &&
        status.code() != ErrorCode::kDeadlineExceeded) {
      return status;
    }
    if (status.code() == ErrorCode::kDeadlineExceeded &&
        !failure.sent_nothing) {
      return status;
    }
    const bool may_retry =
        idempotent == Idempotent::kYes || failure.sent_nothing;
    if (!may_retry || Clock::now() >= deadline) {
      if (status.code() != ErrorCode::kUnavailable) return status;
      return UnavailableError(status.message() + " (retried for " +
                              std::to_string(options_.retry_budget.count()) +
                              " ms)");
    }
    // The next pooled connection may be stale too: try it at once. A server
    // that refuses or fails is given time.
    if (!failure.stale) std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
  }
}

Status Client::ForEachMaster(
    std::string_view, const std::function<Status(Transport& master)>& visit) {
  return visit(*this);
}

std::string Client::NextTo(std::string_view name,
                           std::string_view suffix) const {
  return std::string(name) + std::string(suffix);
}

Result<Reply> Transport::RunOne(const Command& command, Idempotent idempotent,
                                std::string_view what) {
  BACKENDS_ASSIGN_OR_RETURN(auto replies,
                            Run(std::span(&command, 1), idempotent, what));
  return std::move(replies.front());
}

}  // namespace backends::redis
