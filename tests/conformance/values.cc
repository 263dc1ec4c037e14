#include "backends/json.h"
#include "conformance/view_adapter.h"

namespace backends::testing {

std::string CanonicalJsonValue(int seed, std::size_t size) {
  Json doc = {{"seed", seed},
              {"name", "caf\u00e9 \u4e2d " + std::to_string(seed)},
              {"ratio", seed / 8.0},
              {"tags", {"a", "b", seed % 2 == 0}}};
  std::string text = DumpJson(doc).value();
  if (text.size() < size) {
    std::string fill;
    for (std::size_t i = 0; fill.size() + text.size() + 16 < size; ++i) {
      fill += static_cast<char>('a' + (seed + static_cast<int>(i)) % 26);
    }
    doc["fill"] = fill;
    text = DumpJson(doc).value();
  }
  return text;
}

std::string Utf8TextValue(int seed, std::size_t size) {
  static const std::string kPieces[] = {
      "a", "b", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", " ", "\n"};
  std::string out;
  std::uint32_t x = static_cast<std::uint32_t>(seed) + 17;
  while (out.size() < size) {
    x = x * 1103515245u + 12345u;
    const std::string& piece = kPieces[(x >> 16) % 7];
    if (out.size() + piece.size() > size) {
      out += 'z';
    } else {
      out += piece;
    }
  }
  return out;
}

}  // namespace backends::testing
