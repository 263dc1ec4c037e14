#include "reliability/stress_ops.h"

#include <random>
#include <string>

#include "backends/json.h"
#include "reliability/sealed_value.h"

namespace backends::reliability {
namespace {

bool IsConflictKey(const std::string& key) {
  return key == "c" || key == "c/x";
}

// The sealed text inside a stored value, or an explanation in `why`.
std::optional<std::string> SealedText(const std::string& stored,
                                      bool json_values, std::string& why) {
  if (!json_values) return stored;
  auto json = ParseJson(stored);
  if (!json.ok()) {
    why = "stored JSON does not parse: " + json.status().ToString();
    return std::nullopt;
  }
  if (!json->is_string()) {
    why = "stored JSON is not a string";
    return std::nullopt;
  }
  return json->get<std::string>();
}

std::string CheckValue(const std::string& key, const std::string& stored,
                       std::uint64_t workers, bool json_values) {
  std::string why;
  auto text = SealedText(stored, json_values, why);
  if (!text) return "load " + key + ": " + why;
  auto sealed = Unseal(*text);
  if (!sealed) {
    return "load " + key + ": partial or mixed value of " +
           std::to_string(stored.size()) + " bytes";
  }
  if (sealed->key != key) {
    return "load " + key + ": holds the value of " + sealed->key;
  }
  if ((sealed->gen >> 40) >= workers) {
    return "load " + key + ": generation from an unknown writer";
  }
  return "";
}

}  // namespace

std::vector<std::string> StressKeys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back("shared/k" + std::to_string(i));
  for (int i = 0; i < 4; ++i) {
    keys.push_back("shared/deep/a/b/k" + std::to_string(i));
  }
  keys.push_back("c");
  keys.push_back("c/x");
  return keys;
}

std::string CheckAtRest(Backend& store, const std::string& key,
                        std::uint64_t workers, bool json_values) {
  auto value = store.load(key);
  if (!value.ok()) return "load " + key + ": " + value.status().ToString();
  if (!value->has_value()) return "";
  return CheckValue(key, **value, workers, json_values);
}

StressResult RunStress(Backend& store, const StressConfig& config) {
  StressResult r;
  const std::vector<std::string> keys = StressKeys();
  std::mt19937_64 rng(config.seed);
  auto fail = [&](std::string what) {
    if (r.error.empty()) r.error = std::move(what);
  };
  for (std::uint64_t n = 0; n < config.operations && r.error.empty(); ++n) {
    const std::string& key = keys[rng() % keys.size()];
    const std::uint64_t op = rng() % 100;
    if (op < 45) {
      std::size_t len = rng() % 8 == 0 ? (64u << 10) + rng() % (192u << 10)
                                       : 1 + rng() % 4096;
      std::string value = Seal(key, (config.worker << 40) | n, len);
      if (config.json_values) value = DumpJson(Json(value)).value();
      Status s = store.dump(key, value);
      ++r.dumps;
      if (!s.ok()) {
        if (IsConflictKey(key) && s.code() == ErrorCode::kFailedPrecondition) {
          ++r.conflicts;
        } else {
          fail("dump " + key + ": " + s.ToString());
        }
      }
    } else if (op < 80) {
      auto value = store.load(key);
      ++r.loads;
      if (!value.ok()) {
        fail("load " + key + ": " + value.status().ToString());
      } else if (value->has_value()) {
        ++r.hits;
        std::string why =
            CheckValue(key, **value, config.workers, config.json_values);
        if (!why.empty()) fail(why);
      }
    } else if (op < 95) {
      auto removed = store.remove(key);
      ++r.removes;
      if (!removed.ok()) {
        fail("remove " + key + ": " + removed.status().ToString());
      }
    } else {
      auto listed = store.list("shared/");
      ++r.lists;
      if (!listed.ok()) {
        fail("list: " + listed.status().ToString());
        continue;
      }
      for (const auto& k : *listed) {
        bool known = false;
        for (const auto& candidate : keys) known = known || candidate == k;
        if (!known) fail("list: unexpected key " + QuoteKey(k));
      }
    }
  }
  return r;
}

}  // namespace backends::reliability
