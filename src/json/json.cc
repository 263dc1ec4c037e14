// JSON in the original library's format.
//
// Writing: we write Python's `json.dump(v, sort_keys=True, indent=4,
// separators=(',', ': '))` byte for byte ourselves, because no packaged
// writer does: nlohmann's dump(4) switches floats to exponent form at 1e15
// where Python's repr switches at 1e16, and cannot omit sorting differences.
// Floats take the shortest round-trip digits from std::to_chars and are laid
// out by Python's float_repr rules (exponent when the decimal point position
// is <= -4 or > 16, ".0" on integral values, two-digit exponents).
//
// Reading: simdjson (validates UTF-8, ~20x nlohmann's parser on small
// documents), converted to nlohmann::json, the value type of our API.
// simdjson refuses integers beyond 64 bits, which Python writes freely:
// those documents, and the error path, go through nlohmann's parser.

#include "backends/json.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>

#include "backends/backend.h"

namespace backends {
namespace {

void AppendHex4(std::string& out, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  out += kHex[(v >> 12) & 0xF];
  out += kHex[(v >> 8) & 0xF];
  out += kHex[(v >> 4) & 0xF];
  out += kHex[v & 0xF];
}

// Appends `s` as a JSON string literal. Returns false on invalid UTF-8.
bool AppendString(std::string& out, std::string_view s, bool ensure_ascii) {
  if (!IsValidUtf8(s)) return false;
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  // Python's ensure_ascii escapes everything outside ' '..'~', DEL too.
  auto plain = [ensure_ascii](unsigned char c) {
    return c >= 0x20 && c != '"' && c != '\\' && (!ensure_ascii || c < 0x7F);
  };
  while (p < end) {
    // Runs of bytes written as they are, in one append.
    const auto* run = p;
    while (p < end && plain(*p)) ++p;
    out.append(reinterpret_cast<const char*>(run),
               static_cast<std::size_t>(p - run));
    if (p == end) break;
    unsigned char c = *p;
    switch (c) {
      case '"':
        out += "\\\"";
        ++p;
        continue;
      case '\\':
        out += "\\\\";
        ++p;
        continue;
      case '\n':
        out += "\\n";
        ++p;
        continue;
      case '\r':
        out += "\\r";
        ++p;
        continue;
      case '\t':
        out += "\\t";
        ++p;
        continue;
      case '\b':
        out += "\\b";
        ++p;
        continue;
      case '\f':
        out += "\\f";
        ++p;
        continue;
      default:
        break;
    }
    if (c < 0x80) {  // A control character, or DEL under ensure_ascii.
      AppendHex4(out, c);
      ++p;
      continue;
    }
    // ensure_ascii and valid UTF-8 (checked above): decode one code point.
    unsigned cp;
    int len;
    if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1Fu, len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0Fu, len = 3;
    } else {
      cp = c & 0x07u, len = 4;
    }
    for (int i = 1; i < len; ++i) cp = (cp << 6) | (p[i] & 0x3Fu);
    p += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      AppendHex4(out, 0xD800 + (cp >> 10));
      AppendHex4(out, 0xDC00 + (cp & 0x3FF));
    } else {
      AppendHex4(out, cp);
    }
  }
  out += '"';
  return true;
}

// Python's repr(float) for a finite double.
void AppendFloat(std::string& out, double d) {
  char buf[64];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  // buf is "[-]D[.DDD]e[+-]XX": the shortest digits that round-trip.
  const char* p = buf;
  if (*p == '-') {
    out += '-';
    ++p;
  }
  char digits[32];
  int ndigits = 0;
  for (; *p != 'e'; ++p) {
    if (*p != '.') digits[ndigits++] = *p;
  }
  int exponent = 0;
  std::from_chars(p + (p[1] == '+' ? 2 : 1), end, exponent);
  while (ndigits > 1 && digits[ndigits - 1] == '0') --ndigits;
  const int decpt = exponent + 1;  // digits d1d2.. mean 0.d1d2.. * 10^decpt
  auto put = [&](int from, int to) {
    out.append(digits + from, static_cast<std::size_t>(to - from));
  };
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-decpt), '0');
      put(0, ndigits);
    } else if (decpt >= ndigits) {
      put(0, ndigits);
      out.append(static_cast<std::size_t>(decpt - ndigits), '0');
      out += ".0";
    } else {
      put(0, decpt);
      out += '.';
      put(decpt, ndigits);
    }
    return;
  }
  put(0, 1);
  if (ndigits > 1) {
    out += '.';
    put(1, ndigits);
  }
  int exp10 = decpt - 1;
  out += exp10 < 0 ? "e-" : "e+";
  int mag = exp10 < 0 ? -exp10 : exp10;
  if (mag < 10) out += '0';
  char mag_text[8];
  auto [mag_end, mag_ec] =
      std::to_chars(mag_text, mag_text + sizeof mag_text, mag);
  out.append(mag_text, mag_end);
}

Status TooDeep() {
  return InvalidArgumentError("nested deeper than " +
                              std::to_string(kMaxJsonDepth) + " levels");
}

class Writer {
 public:
  Writer(const JsonFormat& format, std::string& out)
      : format_(format), out_(out) {}

  // Recursion is bounded by kMaxJsonDepth: a container at `depth` (0 for
  // the top) is nesting level depth + 1.
  Status Write(const Json& v, int depth) {
    if (v.is_structured() && depth >= kMaxJsonDepth) return TooDeep();
    switch (v.type()) {
      case Json::value_t::null:
        out_ += "null";
        break;
      case Json::value_t::boolean:
        out_ += v.get<bool>() ? "true" : "false";
        break;
      case Json::value_t::number_integer:
        AppendInt(v.get<std::int64_t>());
        break;
      case Json::value_t::number_unsigned:
        AppendInt(v.get<std::uint64_t>());
        break;
      case Json::value_t::number_float: {
        double d = v.get<double>();
        if (!std::isfinite(d)) {
          return InvalidArgumentError("NaN and infinity are not valid JSON");
        }
        AppendFloat(out_, d);
        break;
      }
      case Json::value_t::string:
        if (!AppendString(out_, v.get_ref<const std::string&>(),
                          format_.ensure_ascii)) {
          return InvalidArgumentError("a string is not valid UTF-8");
        }
        break;
      case Json::value_t::array: {
        if (v.empty()) {
          out_ += "[]";
          break;
        }
        out_ += '[';
        bool first = true;
        for (const auto& item : v) {
          Separate(first, depth + 1);
          BACKENDS_RETURN_IF_ERROR(Write(item, depth + 1));
        }
        Close(depth);
        out_ += ']';
        break;
      }
      case Json::value_t::object: {
        if (v.empty()) {
          out_ += "{}";
          break;
        }
        out_ += '{';
        bool first = true;
        for (const auto& [key, item] : v.get_ref<const Json::object_t&>()) {
          Separate(first, depth + 1);
          if (!AppendString(out_, key, format_.ensure_ascii)) {
            return InvalidArgumentError("an object key is not valid UTF-8");
          }
          out_ += format_.indent >= 0 ? ": " : ":";
          BACKENDS_RETURN_IF_ERROR(Write(item, depth + 1));
        }
        Close(depth);
        out_ += '}';
        break;
      }
      case Json::value_t::binary:
        return InvalidArgumentError("binary values are not JSON");
      case Json::value_t::discarded:
        return InvalidArgumentError("a discarded value is not JSON");
    }
    return Status::OK();
  }

 private:
  template <typename Int>
  void AppendInt(Int i) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
    out_.append(buf, end);
  }
  void Separate(bool& first, int depth) {
    if (!first) out_ += ',';
    first = false;
    Indent(depth);
  }
  void Close(int depth) { Indent(depth); }
  void Indent(int depth) {
    if (format_.indent < 0) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth * format_.indent), ' ');
  }

  const JsonFormat& format_;
  std::string& out_;
};

// Fills `out` in place: building nlohmann's tree dominates load time (the
// benchmarks' callgrind profile), so no temporaries and no re-sorting.
// Returns false past `depth_left` levels of nesting.
bool FromSimdjson(simdjson::dom::element e, Json& out, int depth_left) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      // Keep the array alive: iterating the temporary result's value would
      // dangle (AddressSanitizer: stack-use-after-scope).
      simdjson::dom::array array = e.get_array().value_unsafe();
      if (depth_left == 0) return false;
      out = Json::array();
      auto& items = out.get_ref<Json::array_t&>();
      items.reserve(array.size());
      for (auto item : array) {
        if (!FromSimdjson(item, items.emplace_back(), depth_left - 1)) {
          return false;
        }
      }
      return true;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      if (depth_left == 0) return false;
      out = Json::object();
      auto& fields = out.get_ref<Json::object_t&>();
      for (auto field : object) {
        // Keys written by us (or the original) come sorted: append at the
        // end. Python keeps the last of duplicate keys; so do we.
        std::string_view key = field.key;
        Json* slot;
        if (fields.empty() || fields.rbegin()->first < key) {
          slot = &fields.emplace_hint(fields.end(), key, nullptr)->second;
        } else {
          slot = &fields[std::string(key)];
        }
        if (!FromSimdjson(field.value, *slot, depth_left - 1)) return false;
      }
      return true;
    }
    case simdjson::dom::element_type::INT64:
      out = e.get_int64().value_unsafe();
      return true;
    case simdjson::dom::element_type::UINT64:
      out = e.get_uint64().value_unsafe();
      return true;
    case simdjson::dom::element_type::DOUBLE:
      out = e.get_double().value_unsafe();
      return true;
    case simdjson::dom::element_type::STRING:
      out = std::string(e.get_string().value_unsafe());
      return true;
    case simdjson::dom::element_type::BOOL:
      out = e.get_bool().value_unsafe();
      return true;
    case simdjson::dom::element_type::NULL_VALUE:
      out = nullptr;
      return true;
  }
  return true;
}

// Records nlohmann's first parse error, or nesting past max_depth, without
// exceptions. nlohmann's parser is iterative; the depth check keeps the tree
// it builds (whose copy and our writer recurse) bounded.
struct ErrorSax : nlohmann::json_sax<Json> {
  explicit ErrorSax(int limit) : max_depth(limit) {}
  int max_depth;
  int depth = 0;
  bool too_deep = false;
  std::string error;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return --depth, true; }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return --depth, true; }
  bool Enter() {
    too_deep = ++depth > max_depth;
    return !too_deep;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    std::string_view what = ex.what();
    if (auto tag_end = what.find("] ");
        what.starts_with("[json.") && tag_end != std::string_view::npos) {
      what.remove_prefix(tag_end + 2);
    }
    error = "at byte " + std::to_string(position) + ": " + std::string(what);
    return false;
  }
};

}  // namespace

Result<std::string> DumpJson(const Json& value, const JsonFormat& format) {
  std::string out;
  BACKENDS_RETURN_IF_ERROR(Writer(format, out).Write(value, 0));
  return out;
}

Result<Json> ParseJson(std::string_view text, int max_depth) {
  max_depth = std::clamp(max_depth, 1, kMaxJsonDepth + 1);
  // simdjson stops at its own depth bound (1024): deeper text goes to the
  // SAX pass below, which reports it.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto error = parser.parse(text.data(), text.size()).get(root);
  if (!error) {
    Json out;
    if (FromSimdjson(root, out, max_depth)) return out;
  }
  ErrorSax sax(max_depth);
  bool parsed = Json::sax_parse(text, &sax);
  if (sax.too_deep) {
    return DataLossError("invalid JSON: nested deeper than " +
                         std::to_string(max_depth) + " levels");
  }
  if (parsed && sax.error.empty()) {
    // Valid JSON simdjson cannot hold (integers past 64 bits).
    Json out = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!out.is_discarded()) return out;
  }
  return DataLossError("invalid JSON " +
                       (sax.error.empty()
                            ? std::string(simdjson::error_message(error))
                            : sax.error));
}

}  // namespace backends
