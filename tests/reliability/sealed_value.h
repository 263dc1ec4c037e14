#pragma once

// Self-describing values for the reliability tests: a value carries its own
// key, a generation number, its length and a checksum, so a reader can tell a
// complete value from a torn, truncated or mixed one without knowing what
// was written.
//
//   BKV1 gen=<decimal> len=<decimal> sum=<16 hex> key=<key>\n<len bytes>
//
// The payload is pseudo-random bytes derived from (key, gen), so two
// different values of one key never share a payload and a mix of two
// writes fails the checksum. Header-only: used by the test binaries and by
// the helper programs they spawn.

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace backends::reliability {

inline std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline std::uint64_t HashBytes(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed ^ 0xCBF29CE484222325ULL;
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = (h ^ w) * 0x100000001B3ULL;
    h ^= h >> 29;
  }
  for (; i < data.size(); ++i) {
    h = (h ^ static_cast<unsigned char>(data[i])) * 0x100000001B3ULL;
  }
  std::uint64_t tail = data.size();
  return SplitMix64(tail) ^ h;
}

/// Payload bytes for (key, gen): deterministic, printable (so the same
/// payload can sit in a JSON string), different for every generation.
inline std::string Payload(std::string_view key, std::uint64_t gen,
                           std::size_t len) {
  std::uint64_t state = HashBytes(key, gen);
  std::string out(len, '\0');
  for (std::size_t i = 0; i < len; i += 8) {
    std::uint64_t r = SplitMix64(state);
    for (std::size_t j = 0; j < 8 && i + j < len; ++j) {
      out[i + j] = static_cast<char>('a' + ((r >> (j * 8)) & 0xFF) % 26);
    }
  }
  return out;
}

inline std::string HexU64(std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = kHex[v & 0xF];
  return s;
}

inline std::uint64_t SealSum(std::string_view key, std::uint64_t gen,
                             std::string_view payload) {
  return HashBytes(payload, HashBytes(key, gen));
}

/// The sealed value of (key, gen) with a payload of `len` bytes.
inline std::string Seal(std::string_view key, std::uint64_t gen,
                        std::size_t len) {
  std::string payload = Payload(key, gen, len);
  std::string out = "BKV1 gen=" + std::to_string(gen) +
                    " len=" + std::to_string(len) +
                    " sum=" + HexU64(SealSum(key, gen, payload)) +
                    " key=" + std::string(key) + "\n";
  out += payload;
  return out;
}

struct Unsealed {
  std::string key;
  std::uint64_t gen = 0;
  std::size_t len = 0;
};

namespace sealed_internal {
inline bool TakeNumber(std::string_view& s, std::string_view tag,
                       std::uint64_t& out) {
  if (!s.starts_with(tag)) return false;
  s.remove_prefix(tag.size());
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}
}  // namespace sealed_internal

/// Parses and verifies a sealed value: std::nullopt unless the header is
/// well formed, the length is exact and the checksum matches.
inline std::optional<Unsealed> Unseal(std::string_view value) {
  using sealed_internal::TakeNumber;
  std::size_t newline = value.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  std::string_view header = value.substr(0, newline);
  std::string_view payload = value.substr(newline + 1);
  Unsealed out;
  std::uint64_t len = 0;
  if (!header.starts_with("BKV1 ")) return std::nullopt;
  header.remove_prefix(5);
  if (!TakeNumber(header, "gen=", out.gen)) return std::nullopt;
  if (!TakeNumber(header, " len=", len)) return std::nullopt;
  if (!header.starts_with(" sum=") || header.size() < 5 + 16 + 5) {
    return std::nullopt;
  }
  std::string_view sum = header.substr(5, 16);
  header.remove_prefix(5 + 16);
  if (!header.starts_with(" key=")) return std::nullopt;
  out.key = std::string(header.substr(5));
  out.len = static_cast<std::size_t>(len);
  if (payload.size() != len) return std::nullopt;
  if (sum != HexU64(SealSum(out.key, out.gen, payload))) return std::nullopt;
  return out;
}

}  // namespace backends::reliability
