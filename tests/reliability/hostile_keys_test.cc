// Hostile keys: a table of keys that try to escape or confuse the filesystem
// store, run against FileBackend, the original's typed FileSystem*Backend
// views, a JsonCache folder and a store opened from a file:// URL. Every
// invalid key must be refused with kInvalidArgument by every operation,
// before anything touches the disk; every valid-but-odd key (look-alikes,
// `..\`, `%2e%2e`) must land exactly at root/<key>, as the literal name it
// is. A sibling folder "outside" is snapshotted before and after: nothing
// there may change. Links planted inside the root are in link_test.cc.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "backends/cache.h"
#include "backends/file.h"
#include "backends/open.h"
#include "reliability/outside_snapshot.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

namespace fs = std::filesystem;
using backends::testing::IsOk;
using backends::testing::IsOkAndHolds;
using backends::testing::StatusIs;
using namespace std::string_literals;

struct HostileKey {
  std::string key;
  bool valid;  // true: a legal (if odd) file name, stored literally
};

std::vector<HostileKey> HostileKeys() {
  std::vector<HostileKey> t = {
      // Traversal.
      {"..", false},
      {".", false},
      {"../x", false},
      {"../outside/secret", false},
      {"a/../../b", false},
      {"a/..", false},
      {"a/../b", false},
      {"./a", false},
      {"a/./b", false},
      {"./", false},
      {"..//..//x", false},
      {"../../../../../../../../tmp/x", false},
      {"a/b/../../../outside/secret", false},
      {"~/../x", false},
      // Absolute paths and empty segments.
      {"/etc/passwd", false},
      {"/", false},
      {"/..", false},
      {"/a", false},
      {"//", false},
      {"a//b", false},
      {"a/", false},
      {"//outside/secret", false},
      // NUL and control bytes.
      {"a\0b"s, false},
      {"\0"s, false},
      {"\0../x"s, false},
      {"a/\0/b"s, false},
      {"..\0/x"s, false},
      {"a\nb", false},
      {"a\rb", false},
      {"a\tb", false},
      {"\x1b[31mred", false},
      {"\x7f", false},
      {"a\x01/b", false},
      // Overlong segments and keys.
      {std::string(256, 'a'), false},
      {"x/" + std::string(300, 'b'), false},
      {[] {
         std::string k;
         while (k.size() <= kMaxKeyBytes) k += "abcdefg/";
         return k + "z";
       }(),
       false},
      // Invalid UTF-8, including overlong encodings of '.' and '/'.
      {"\xff", false},
      {"a\x80", false},
      {"\xe2\x80", false},
      {"\xc0\xae\xc0\xae/x", false},
      {"..\xc0\xafx", false},
      {"\xed\xa0\x80", false},
      {"\xf4\x90\x80\x80", false},
      // Our temporary files.
      {std::string(kTempFilePrefix) + "0123456789abcdef", false},
      {"a/" + std::string(kTempFilePrefix) + "x", false},
      {std::string(kTempFilePrefix), false},
      // Empty.
      {"", false},
      // Legal names that only look dangerous: stored literally.
      {"..\\x", true},
      {"..\\..\\outside\\secret", true},
      {"a\\..\\..\\b", true},
      {"%2e%2e/x", true},
      {"%2e%2e%2fx", true},
      {"..%2fx", true},
      {"%2F", true},
      {"\u2025", true},  // two dot leader
      {"\u2025/x", true},
      {"\uff0e\uff0e/x", true},  // fullwidth full stops
      {"a\uff0fb", true},        // fullwidth solidus: one segment
      {"..\u2215x", true},       // division slash
      {"\u2024\u2024", true},    // one dot leaders
      {"...", true},
      {"....", true},
      {".a", true},
      {"..a", true},
      {"a..", true},
      {" .. ", true},
      {"~", true},
      {".backends-tmp", true},  // not the reserved prefix (no final dot)
      {"x.backends-tmp.y", true},
      {std::string(255, 'm'), true},
      {"\u00a0", true},  // no-break space
      {"\u202e", true},  // right-to-left override
      {"\ufeff", true},  // byte order mark
      {"con", true},
      {"nul/aux", true},
      {"*?:<>|\"", true},
      {"a/b/c/d/e/f/g", true},
      {"\xc3\xa9t\xc3\xa9", true},
      {"\xf0\x9f\x92\xa9", true},
  };
  return t;
}

// One store under test, seen through the operations every view offers.
struct Adapter {
  std::string name;
  std::function<Status(const std::string&)> dump;
  std::function<Result<bool>(const std::string&)> load;  // found?
  std::function<Result<bool>(const std::string&)> remove;
  std::function<Result<bool>(const std::string&)> contains;
  std::function<Result<std::vector<std::string>>(const std::string&)> list;
  std::function<Result<fs::path>(const std::string&)> path;  // may be empty
};

template <typename T, typename V>
Adapter Adapt(std::string name, std::shared_ptr<T> s, V value) {
  Adapter a;
  a.name = std::move(name);
  a.dump = [s, value](const std::string& k) { return s->dump(k, value); };
  a.load = [s](const std::string& k) -> Result<bool> {
    BACKENDS_ASSIGN_OR_RETURN(auto v, s->load(k));
    return v.has_value();
  };
  a.remove = [s](const std::string& k) { return s->remove(k); };
  a.contains = [s](const std::string& k) { return s->contains(k); };
  a.list = [s](const std::string& p) { return s->list(p); };
  if constexpr (requires { s->path(std::string()); }) {
    a.path = [s](const std::string& k) { return s->path(k); };
  }
  return a;
}

class HostileKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() / "root";
    outside_ = tmp_.path() / "outside";
    fs::create_directories(root_);
    for (const char* name : {"secret", "x", "b", "passwd", "a/b", "sub/k0"}) {
      PlantFile(outside_ / name, "OUTSIDE " + std::string(name));
    }
    before_ = TakeSnapshot(outside_);
  }

  std::vector<Adapter> Adapters() {
    std::vector<Adapter> out;
    auto file = FileBackend::Open(root_);
    EXPECT_TRUE(file.ok());
    out.push_back(Adapt("FileBackend",
                        std::shared_ptr<FileBackend>(std::move(*file)),
                        std::string("raw value")));
    auto text = FileSystemTextBackend::Open(root_);
    EXPECT_TRUE(text.ok());
    out.push_back(
        Adapt("FileSystemTextBackend",
              std::make_shared<FileSystemTextBackend>(std::move(*text)),
              std::string("text value \u00e9")));
    auto json = FileSystemJsonBackend::Open(root_);
    EXPECT_TRUE(json.ok());
    out.push_back(
        Adapt("FileSystemJsonBackend",
              std::make_shared<FileSystemJsonBackend>(std::move(*json)),
              Json{{"a", 1}}));
    auto cache = JsonCache::Open(root_);
    EXPECT_TRUE(cache.ok());
    out.push_back(Adapt("JsonCache",
                        std::make_shared<JsonCache>(std::move(*cache)),
                        Json::array({1, 2})));
    auto url = OpenBackend("file://" + PercentEncode(root_.string(), "/"));
    EXPECT_TRUE(url.ok());
    out.push_back(Adapt("OpenBackend(file://)",
                        std::shared_ptr<Backend>(std::move(*url)),
                        std::string("url value")));
    return out;
  }

  void ExpectOutsideUntouched() {
    EXPECT_EQ(TakeSnapshot(outside_), before_);
    std::vector<std::string> top;
    for (const auto& e : fs::directory_iterator(tmp_.path())) {
      top.push_back(e.path().filename().string());
    }
    EXPECT_THAT(top, ::testing::UnorderedElementsAre("root", "outside"));
  }

  backends::testing::ScopedTempDir tmp_;
  fs::path root_, outside_;
  Snapshot before_;
};

TEST_F(HostileKeysTest, TableHasAtLeastFiftyKeys) {
  EXPECT_GE(HostileKeys().size(), 50u);
}

TEST_F(HostileKeysTest, InvalidKeysAreRefusedByEveryOperation) {
  using ::testing::Not;
  int refusals = 0, tried = 0;
  for (const auto& adapter : Adapters()) {
    for (const auto& [key, valid] : HostileKeys()) {
      if (valid) continue;
      ++tried;
      SCOPED_TRACE(adapter.name + " " + QuoteKey(key));
      EXPECT_THAT(adapter.dump(key), StatusIs(ErrorCode::kInvalidArgument));
      EXPECT_THAT(adapter.load(key).status(),
                  StatusIs(ErrorCode::kInvalidArgument));
      EXPECT_THAT(adapter.remove(key).status(),
                  StatusIs(ErrorCode::kInvalidArgument));
      EXPECT_THAT(adapter.contains(key).status(),
                  StatusIs(ErrorCode::kInvalidArgument));
      refusals += 4;
      if (adapter.path) {
        EXPECT_THAT(adapter.path(key).status(),
                    StatusIs(ErrorCode::kInvalidArgument));
        ++refusals;
      }
      // A hostile prefix only filters: whatever it lists is a real key.
      auto listed = adapter.list(key);
      if (listed.ok()) {
        for (const auto& k : *listed) EXPECT_TRUE(k.starts_with(key)) << k;
      }
    }
  }
  EXPECT_TRUE(fs::is_empty(root_)) << "a refused key left something behind";
  ExpectOutsideUntouched();
  std::printf(
      "hostile keys: %d invalid key x store pairs, %d refusals, all "
      "kInvalidArgument\n",
      tried, refusals);
}

TEST_F(HostileKeysTest, OddButValidKeysAreStoredLiterallyInsideTheRoot) {
  int stored = 0;
  for (const auto& adapter : Adapters()) {
    for (const auto& [key, valid] : HostileKeys()) {
      if (!valid) continue;
      SCOPED_TRACE(adapter.name + " " + QuoteKey(key));
      BACKENDS_ASSERT_OK(adapter.dump(key));
      const fs::path expected = root_ / fs::path(key);
      struct stat st;
      ASSERT_EQ(::lstat(expected.c_str(), &st), 0) << "not at " << expected;
      EXPECT_TRUE(S_ISREG(st.st_mode));
      if (adapter.path) {
        ASSERT_OK_AND_ASSIGN(auto path, adapter.path(key));
        EXPECT_EQ(path, expected);
      }
      EXPECT_THAT(adapter.load(key), IsOkAndHolds(true));
      ASSERT_OK_AND_ASSIGN(auto keys, adapter.list(""));
      EXPECT_THAT(keys, ::testing::Contains(key));
      EXPECT_THAT(adapter.remove(key), IsOkAndHolds(true));
      EXPECT_NE(::lstat(expected.c_str(), &st), 0);
      ++stored;
    }
  }
  EXPECT_TRUE(fs::is_empty(root_)) << "remove left folders behind";
  ExpectOutsideUntouched();
  std::printf(
      "hostile keys: %zu keys in the table; %d odd-but-valid key x "
      "store pairs stored at root/<key> and removed\n",
      HostileKeys().size(), stored);
}

}  // namespace
}  // namespace backends::reliability
