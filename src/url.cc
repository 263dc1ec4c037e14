// Store URLs: scheme://authority/path?query. Our own few lines rather than
// libcurl's URL API: the core library does not link curl, and store URLs
// are not web URLs (file://relative/dir, s3://bucket with no host).

#include <algorithm>
#include <cctype>
#include <string>

#include "backends/open.h"

namespace backends {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view text, std::string_view url,
                                  bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgumentError("URL \"" + RedactUrl(url) +
                                    "\": bad percent-escape");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

}  // namespace

std::string PercentEncode(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        keep.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

namespace {

// `text` with the password of its own user:password@ authority masked.
std::string RedactAuthority(std::string_view text) {
  const std::size_t sep = text.find("://");
  const std::size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  const std::size_t end = std::min(text.find_first_of("/?#", start),
                                   text.size());
  const std::size_t at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  const std::size_t colon = text.substr(0, at).find(':', start);
  if (colon == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, colon + 1)) + "***" +
         std::string(text.substr(at));
}

}  // namespace

std::string RedactUrl(std::string_view text) {
  std::string out = RedactAuthority(text);
  // A read-through layer's front= holds a whole URL, percent-encoded: its
  // password is masked as well (the value masked whole if it won't decode).
  const std::size_t question = out.find('?');
  if (question == std::string::npos) return out;
  const std::string query = out.substr(question + 1);
  out.resize(question + 1);
  for (std::size_t begin = 0; begin <= query.size();) {
    std::size_t amp = query.find('&', begin);
    if (amp == std::string::npos) amp = query.size();
    const std::string_view part(query.data() + begin, amp - begin);
    if (begin != 0) out += '&';
    if (part.starts_with("front=")) {
      auto front = PercentDecode(part.substr(6), "", true);
      out += "front=";
      out += front.ok() ? PercentEncode(RedactUrl(*front)) : "***";
    } else {
      out += part;
    }
    begin = amp + 1;
  }
  return out;
}

std::string AddUrlParam(std::string_view url, std::string_view name,
                        std::string_view value) {
  std::string out(url);
  out += url.find('?') == std::string_view::npos ? '?' : '&';
  out += PercentEncode(name);
  out += '=';
  out += PercentEncode(value);
  return out;
}

std::string AddJsonFormatParams(std::string_view url,
                                const JsonFormat& format) {
  const JsonFormat original;
  std::string out(url);
  if (format.indent != original.indent) {
    // Every negative indent writes the same compact text.
    out = AddUrlParam(out, "indent",
                      std::to_string(format.indent < 0 ? -1 : format.indent));
  }
  if (format.ensure_ascii != original.ensure_ascii) {
    out = AddUrlParam(out, "ensure_ascii", format.ensure_ascii ? "1" : "0");
  }
  return out;
}

Result<Url> Url::Parse(std::string_view text) {
  std::size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return InvalidArgumentError("URL \"" + RedactUrl(text) +
                                "\": expected scheme://..., e.g. file:///dir");
  }
  Url url;
  url.scheme.assign(text.substr(0, sep));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string_view rest = text.substr(sep + 3);
  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::size_t slash = rest.find('/');
  url.authority.assign(rest.substr(0, slash));
  std::string_view path =
      slash == std::string_view::npos ? "" : rest.substr(slash);
  BACKENDS_ASSIGN_OR_RETURN(url.path, PercentDecode(path, text, false));
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    BACKENDS_ASSIGN_OR_RETURN(auto name,
                              PercentDecode(pair.substr(0, eq), text, true));
    std::string value;
    if (eq != std::string_view::npos) {
      BACKENDS_ASSIGN_OR_RETURN(value,
                                PercentDecode(pair.substr(eq + 1), text, true));
    }
    url.query.emplace_back(std::move(name), std::move(value));
  }
  return url;
}

std::optional<std::string> Url::Param(std::string_view name) const {
  std::optional<std::string> found;
  for (const auto& [key, value] : query) {
    if (key == name) found = value;
  }
  return found;
}

}  // namespace backends
