// Crash safety: a writer process (crash_writer.cc) dumps large and small
// sealed values and is killed with SIGKILL at a random moment, again and
// again. After every kill the store must hold, for every key, a complete
// value at least as new as the one seen after the previous kill (the old
// value or a new one, never a torn one, never a vanished key), no temporary
// file may show up as a key, and clear() must remove the debris.
//
// The number of kills comes from RELIABILITY_KILLS (default 1000, shared
// 3:1 between the file store and the JsonCache folder).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "backends/cache.h"
#include "backends/file.h"
#include "reliability/sealed_value.h"
#include "reliability/subprocess.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

namespace fs = std::filesystem;
using backends::testing::ScopedTempDir;

int TotalKills() {
  const char* env = std::getenv("RELIABILITY_KILLS");
  int kills = env != nullptr ? std::atoi(env) : 1000;
  return kills > 0 ? kills : 1000;
}

std::vector<std::string> FixedKeys() {
  std::vector<std::string> keys = {"big/0", "big/1", "big/2"};
  for (int i = 0; i < 8; ++i) {
    keys.push_back("small/a/" + std::to_string(i));
    keys.push_back("small/b/c/" + std::to_string(i));
  }
  return keys;
}

// Temporary files anywhere under `root`.
int CountDebris(const fs::path& root) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(kTempFilePrefix)) ++n;
  }
  return n;
}

// One store seen as sealed values: the raw FileBackend or a JsonCache.
struct SealedStore {
  std::function<Status(const std::string&, const std::string&)> dump;
  // The sealed text, std::nullopt if absent.
  std::function<Result<std::optional<std::string>>(const std::string&)> load;
  std::function<Result<std::vector<std::string>>(const std::string&)> list;
  std::function<Result<bool>(const std::string&)> remove;
  std::function<Status()> clear;
};

SealedStore OpenSealed(const std::string& mode, const fs::path& root) {
  SealedStore s;
  if (mode == "json") {
    auto cache = JsonCache::Open(root, CacheOptions{.timeout = kNeverExpires});
    EXPECT_TRUE(cache.ok()) << cache.status();
    auto shared = std::make_shared<JsonCache>(std::move(*cache));
    s.dump = [shared](const std::string& k, const std::string& v) {
      return shared->dump(k, Json(v));
    };
    s.load =
        [shared](const std::string& k) -> Result<std::optional<std::string>> {
      BACKENDS_ASSIGN_OR_RETURN(auto v, shared->load(k));
      if (!v) return std::optional<std::string>();
      if (!v->is_string()) return DataLossError("not a string: " + k);
      return std::optional<std::string>(v->get<std::string>());
    };
    s.list = [shared](const std::string& p) { return shared->list(p); };
    s.remove = [shared](const std::string& k) { return shared->remove(k); };
    s.clear = [shared] { return shared->clear(); };
  } else {
    auto file = FileBackend::Open(root);
    EXPECT_TRUE(file.ok()) << file.status();
    std::shared_ptr<Backend> shared = std::move(*file);
    s.dump = [shared](const std::string& k, const std::string& v) {
      return shared->dump(k, v);
    };
    s.load = [shared](const std::string& k) { return shared->load(k); };
    s.list = [shared](const std::string& p) { return shared->list(p); };
    s.remove = [shared](const std::string& k) { return shared->remove(k); };
    s.clear = [shared] { return shared->clear(); };
  }
  return s;
}

void RunCrashLoop(const std::string& mode, int kills) {
  ScopedTempDir tmp;
  const fs::path root = tmp.path() / "store";
  const std::size_t big = mode == "json" ? (300u << 10) : (1u << 20);
  std::map<std::string, std::uint64_t> last_gen;
  {
    SealedStore store = OpenSealed(mode, root);
    for (const auto& key : FixedKeys()) {
      std::size_t len = key.starts_with("big/") ? big : 100;
      BACKENDS_ASSERT_OK(store.dump(key, Seal(key, 0, len)));
      last_gen[key] = 0;
    }
  }

  std::mt19937_64 rng(0xC0FFEE ^ static_cast<std::uint64_t>(kills));
  int debris_seen = 0, max_debris = 0, fresh_checked = 0, advanced = 0;
  for (int run = 0; run < kills; ++run) {
    const std::uint64_t gen_base = (static_cast<std::uint64_t>(run) + 1) << 20;
    Subprocess writer(
        {BACKENDS_CRASH_WRITER, mode, root.string(), std::to_string(gen_base),
         std::to_string(rng()), std::to_string(run)},
        tmp.path() / "writer.stderr");
    ASSERT_TRUE(writer.ok()) << "cannot start " << BACKENDS_CRASH_WRITER;
    char ready = 0;
    ASSERT_TRUE(writer.ReadByte(ready))
        << "writer died before opening the store: " << writer.Stderr();
    // The kill moment: a random 0-5 ms into the writer's work. (Not time
    // logic under test: any moment must be safe.)
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5001));
    writer.Kill();
    int status = writer.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "run " << run << ": writer ended with " << DescribeWait(status)
        << " before the kill: " << writer.Stderr();

    // A fresh instance, as after a restart.
    SealedStore store = OpenSealed(mode, root);
    for (auto& [key, gen] : last_gen) {
      ASSERT_OK_AND_ASSIGN(auto value, store.load(key));
      ASSERT_TRUE(value.has_value())
          << "run " << run << ": " << key << " vanished";
      auto sealed = Unseal(*value);
      ASSERT_TRUE(sealed.has_value())
          << "run " << run << ": " << key << " holds a torn value of "
          << value->size() << " bytes";
      ASSERT_EQ(sealed->key, key);
      ASSERT_GE(sealed->gen, gen)
          << "run " << run << ": " << key << " went back to an older value";
      if (sealed->gen != gen) ++advanced;
      gen = sealed->gen;
    }
    // New keys in a new folder: each complete, or absent.
    const std::string fresh = "fresh/" + std::to_string(run) + "/";
    ASSERT_OK_AND_ASSIGN(auto fresh_keys, store.list(fresh));
    for (const auto& key : fresh_keys) {
      ASSERT_OK_AND_ASSIGN(auto value, store.load(key));
      ASSERT_TRUE(value.has_value()) << key;
      auto sealed = Unseal(*value);
      ASSERT_TRUE(sealed.has_value()) << "run " << run << ": torn " << key;
      ASSERT_EQ(sealed->key, key);
      ASSERT_GE(sealed->gen, gen_base);
      ASSERT_OK_AND_ASSIGN(bool removed, store.remove(key));
      ASSERT_TRUE(removed);
      ++fresh_checked;
    }
    // Debris is never a key.
    ASSERT_OK_AND_ASSIGN(auto keys, store.list(""));
    for (const auto& key : keys) {
      ASSERT_EQ(key.find(kTempFilePrefix), std::string::npos) << key;
    }
    ASSERT_EQ(keys.size(), last_gen.size()) << "run " << run;
    int debris = CountDebris(root);
    debris_seen += debris;
    max_debris = std::max(max_debris, debris);
  }

  // clear() removes keys and debris alike: the root is left empty.
  SealedStore store = OpenSealed(mode, root);
  BACKENDS_ASSERT_OK(store.clear());
  EXPECT_TRUE(fs::is_empty(root));
  std::printf(
      "crash[%s]: %d SIGKILLs survived; %d key advances checked, %d fresh "
      "keys checked; debris after kills: %d files in total (max %d at "
      "once), all ignored by list and removed by clear\n",
      mode.c_str(), kills, advanced, fresh_checked, debris_seen, max_debris);
  ::testing::Test::RecordProperty("kills", kills);
  ::testing::Test::RecordProperty("debris_seen", debris_seen);
  EXPECT_GT(advanced, 0) << "the writer never got a dump done";
}

TEST(CrashTest, FileStoreSurvivesSigkill) {
  RunCrashLoop("file", TotalKills() - TotalKills() / 4);
}

TEST(CrashTest, JsonCacheFolderSurvivesSigkill) {
  RunCrashLoop("json", TotalKills() / 4);
}

}  // namespace
}  // namespace backends::reliability
