#include "redis/redis_client.h"

#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace backends::redis {
namespace {

using Clock = std::chrono::steady_clock;

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string Where(const RedisOptions& options) {
  if (!options.unix_socket.empty()) return "redis " + options.unix_socket;
  const bool v6 = options.host.find(':') != std::string::npos;
  return "redis " + (v6 ? "[" + options.host + "]" : options.host) + ":" +
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

// Appends `command` in RESP, as redisFormatCommandArgv would, to `wire`:
// one buffer for a whole pipeline, handed to hiredis in one append.
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

void FreeContext(redisContext* context) {
  if (context != nullptr) redisFree(context);
}

}  // namespace

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
      StartsWith(text, "CLUSTERDOWN") || StartsWith(text, "OOM")) {
    return UnavailableError(std::move(message));
  }
  return InternalError(std::move(message));
}

Client::Client(RedisOptions options)
    : options_(std::move(options)), where_(Where(options_)) {}

Client::~Client() = default;

Status Client::ConnectionError(const redisContext& context,
                               std::string_view what,
                               std::string_view step) const {
  std::string message = std::string(what) + ": " + where_ + ": " +
                        std::string(step) + ": " + context.errstr;
  // hiredis reports a timeout as an I/O error with errno EAGAIN (reads) or
  // ETIMEDOUT / EINPROGRESS (connect).
  const std::string_view text = context.errstr;
  if (text.find("temporarily unavailable") != std::string_view::npos ||
      text.find("timed out") != std::string_view::npos ||
      text.find("in progress") != std::string_view::npos) {
    return DeadlineExceededError(std::move(message));
  }
  return UnavailableError(std::move(message));
}

Result<Client::ConnectionPtr> Client::Open(std::string_view what) {
  const timeval connect_timeout = ToTimeval(options_.connect_timeout);
  ConnectionPtr context(
      options_.unix_socket.empty()
          ? redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                    connect_timeout)
          : redisConnectUnixWithTimeout(options_.unix_socket.c_str(),
                                        connect_timeout),
      FreeContext);
  if (context == nullptr) {
    return UnavailableError(std::string(what) + ": " + where_ +
                            ": out of memory opening a connection");
  }
  if (context->err != 0) return ConnectionError(*context, what, "connect");
  if (redisSetTimeout(context.get(), ToTimeval(options_.read_timeout)) !=
      REDIS_OK) {
    return ConnectionError(*context, what, "set timeout");
  }
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
  for (const auto& command : setup) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (auto arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(context.get(), static_cast<int>(argv.size()),
                           argv.data(), lengths.data());
  }
  for (const auto& command : setup) {
    void* raw = nullptr;
    if (redisGetReply(context.get(), &raw) != REDIS_OK) {
      return ConnectionError(*context, what, command[0]);
    }
    Reply reply(static_cast<redisReply*>(raw));
    // The error text never holds the password: Redis answers WRONGPASS
    // with a fixed sentence.
    BACKENDS_RETURN_IF_ERROR(
        ReplyStatus(*reply, std::string(what) + ": " + std::string(command[0]),
                    where_));
  }
  return context;
}

Client::ConnectionPtr Client::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return ConnectionPtr(nullptr, FreeContext);
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

Result<std::vector<Reply>> Client::Run(std::span<const Command> commands,
                                       Idempotent idempotent,
                                       std::string_view what) {
  const auto deadline = Clock::now() + options_.retry_budget;
  auto backoff = std::chrono::milliseconds(20);
  std::size_t bytes = 0;
  for (const auto& command : commands) {
    bytes += 16;
    for (auto arg : command) bytes += arg.size() + 16;
  }
  std::string wire;
  wire.reserve(bytes);
  for (const auto& command : commands) Encode(command, wire);
  while (true) {
    Status failure;
    ConnectionPtr connection = TakeIdle();
    // A pooled connection may have been closed by the server while idle
    // (restart, CLIENT KILL, timeout): nothing of the pipeline reached it,
    // so it is resent on a fresh connection even when not idempotent.
    const bool was_idle = connection != nullptr;
    if (!connection) {
      auto opened = Open(what);
      if (!opened.ok()) {
        failure = opened.status();
      } else {
        connection = std::move(opened).value();
      }
    }
    std::vector<Reply> replies;
    bool sent_nothing = true;
    bool stale = false;  // a pooled connection the server had closed
    if (connection) {
      redisAppendFormattedCommand(connection.get(), wire.data(), wire.size());
      sent_nothing = false;
      replies.reserve(commands.size());
      bool transient = false;
      for (std::size_t i = 0; i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(connection.get(), &raw) != REDIS_OK) {
          failure = ConnectionError(*connection, what, "connection lost");
          // An EOF before the first reply on a reused connection: the
          // server had closed it while idle.
          stale = was_idle && i == 0 && connection->err == REDIS_ERR_EOF;
          sent_nothing = stale;
          break;
        }
        replies.emplace_back(static_cast<redisReply*>(raw));
        transient = transient || IsTransientReply(*replies.back());
      }
      if (failure.ok()) {
        GiveBack(std::move(connection));
        if (!transient || idempotent == Idempotent::kNo ||
            Clock::now() >= deadline) {
          return replies;
        }
        failure = UnavailableError("transient reply");
      }
      connection.reset();
    }
    // Errors that another try cannot mend end the call now.
    if (failure.code() != ErrorCode::kUnavailable &&
        failure.code() != ErrorCode::kDeadlineExceeded) {
      return failure;
    }
    if (failure.code() == ErrorCode::kDeadlineExceeded && !sent_nothing) {
      return failure;
    }
    const bool may_retry = idempotent == Idempotent::kYes || sent_nothing;
    if (!may_retry || Clock::now() >= deadline) {
      if (failure.code() != ErrorCode::kUnavailable) return failure;
      return UnavailableError(failure.message() + " (retried for " +
                              std::to_string(options_.retry_budget.count()) +
                              " ms)");
    }
    // The next pooled connection may be stale too: try it at once. A server
    // that refuses or fails is given time.
    if (!stale) std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
  }
}

Result<Reply> Client::RunOne(const Command& command, Idempotent idempotent,
                             std::string_view what) {
  BACKENDS_ASSIGN_OR_RETURN(auto replies,
                            Run(std::span(&command, 1), idempotent, what));
  return std::move(replies.front());
}

}  // namespace backends::redis
