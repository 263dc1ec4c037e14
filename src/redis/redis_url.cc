// redis://, rediss:// and redis+unix:// URLs (include/backends/redis.h). The user
// information is parsed here, not by Url::Parse, so that no error message
// ever repeats the password.

#include <cstdlib>
#include <string>

#include "backends/open.h"
#include "backends/redis.h"

namespace backends {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> DecodeUserInfo(std::string_view text,
                                   std::string_view part) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 1 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("redis URL: bad percent-escape in the " +
                                  std::string(part));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<int> ParseNumber(std::string_view text, std::string_view what, int max) {
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgumentError("redis URL: bad " + std::string(what) + " \"" +
                                std::string(text) + "\"");
  }
  const int value = std::stoi(std::string(text));
  if (value > max) {
    return InvalidArgumentError("redis URL: " + std::string(what) + " " +
                                std::string(text) + " is out of range");
  }
  return value;
}

Status CheckParams(const Url& url, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : url.query) {
    bool found = false;
    for (auto k : known) found = found || k == name;
    if (!found) {
      return InvalidArgumentError("URL " + url.scheme +
                                  "://...: unknown parameter \"" + name + "\"");
    }
  }
  return Status::OK();
}

// rediss://'s parameters, named as redis-cli's flags are (--cacert, --cert,
// --key, --insecure).
Status ParseTls(const Url& url, RedisOptions& options) {
  options.tls = true;
  if (auto cacert = url.Param("cacert")) options.tls_ca_file = *cacert;
  if (auto cert = url.Param("cert")) options.tls_cert_file = *cert;
  if (auto key = url.Param("key")) options.tls_key_file = *key;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgumentError(
        "rediss URL: a client certificate needs both cert= and key=");
  }
  if (auto insecure = url.Param("insecure")) {
    if (*insecure != "0" && *insecure != "1") {
      return InvalidArgumentError("rediss URL: insecure takes 0 or 1, not \"" +
                                  *insecure + "\"");
    }
    options.tls_insecure = *insecure == "1";
  }
  return Status::OK();
}

}  // namespace

Result<RedisOptions> ParseRedisUrl(std::string_view text) {
  std::string_view scheme = text.substr(0, text.find("://"));
  if (scheme != "redis" && scheme != "rediss" && scheme != "redis+unix") {
    return InvalidArgumentError("not a redis:// URL");
  }
  // Split off the user information before Url::Parse sees the text.
  std::string_view rest = text.substr(scheme.size() + 3);
  const std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view userinfo;
  if (const std::size_t at = authority.rfind('@');
      at != std::string_view::npos) {
    userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string without_userinfo =
      std::string(scheme) + "://" + std::string(authority) +
      std::string(authority_end == std::string_view::npos
                      ? std::string_view()
                      : rest.substr(authority_end));
  BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(without_userinfo));

  RedisOptions options;
  if (!userinfo.empty()) {
    const std::size_t colon = userinfo.find(':');
    BACKENDS_ASSIGN_OR_RETURN(options.user,
                              DecodeUserInfo(userinfo.substr(0, colon), "user"));
    if (colon != std::string_view::npos) {
      BACKENDS_ASSIGN_OR_RETURN(
          options.password,
          DecodeUserInfo(userinfo.substr(colon + 1), "password"));
    }
  }
  if (options.password.empty()) {
    if (const char* env = std::getenv("REDISCLI_AUTH"); env != nullptr) {
      options.password = env;
    }
  }
  if (auto prefix = url.Param("prefix")) options.prefix = *prefix;

  if (url.scheme == "redis+unix") {
    BACKENDS_RETURN_IF_ERROR(CheckParams(url, {"prefix", "db"}));
    if (!url.authority.empty() && url.authority != "localhost") {
      return InvalidArgumentError(
          "redis+unix:// takes a socket path: redis+unix:///path/to.sock");
    }
    if (url.path.empty()) return InvalidArgumentError("redis+unix:// needs a socket path");
    options.unix_socket = url.path;
    if (auto db = url.Param("db")) {
      BACKENDS_ASSIGN_OR_RETURN(options.db, ParseNumber(*db, "db", 1 << 20));
    }
    return options;
  }

  if (url.scheme == "rediss") {
    BACKENDS_RETURN_IF_ERROR(CheckParams(
        url, {"prefix", "cluster", "wait_replicas", "cacert", "cert", "key",
              "insecure"}));
    BACKENDS_RETURN_IF_ERROR(ParseTls(url, options));
  } else {
    BACKENDS_RETURN_IF_ERROR(
        CheckParams(url, {"prefix", "cluster", "wait_replicas"}));
  }
  if (auto cluster = url.Param("cluster")) {
    if (*cluster != "0" && *cluster != "1") {
      return InvalidArgumentError("redis URL: cluster takes 0 or 1, not \"" +
                                  *cluster + "\"");
    }
    options.cluster = *cluster == "1";
  }
  if (auto wait = url.Param("wait_replicas")) {
    BACKENDS_ASSIGN_OR_RETURN(options.wait_replicas,
                              ParseNumber(*wait, "wait_replicas", 1000));
    if (!options.cluster) {
      return InvalidArgumentError("redis URL: wait_replicas needs cluster=1");
    }
  }
  std::string_view host = url.authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("redis URL: unclosed [ in the host");
    }
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port.front() != ':') {
      return InvalidArgumentError("redis URL: expected :port after ]");
    }
    if (!port.empty()) port.remove_prefix(1);
  } else if (const std::size_t colon = host.rfind(':');
             colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return InvalidArgumentError("redis URL: needs a host");
  options.host = std::string(host);
  if (!port.empty()) {
    BACKENDS_ASSIGN_OR_RETURN(options.port, ParseNumber(port, "port", 65535));
  }
  std::string_view path = url.path;
  if (!path.empty()) path.remove_prefix(1);  // the '/'
  if (!path.empty()) {
    BACKENDS_ASSIGN_OR_RETURN(options.db, ParseNumber(path, "db", 1 << 20));
    if (options.cluster && options.db != 0) {
      return InvalidArgumentError("redis URL: a cluster has only db 0");
    }
  }
  return options;
}

}  // namespace backends
