// Filesystem keys: ValidateFileKey, FileBackend::path and a real dump /
// load / list / remove in a temporary root, for any bytes as a key.
//
// Properties: a key ValidateFileKey refuses is refused by every operation
// with kInvalidArgument and touches nothing; a key it accepts maps to
// root/key (lexically beneath the root, no `.`/`..`), is stored as a regular
// file exactly there, loads back, is the only key listed, and its removal
// leaves the root empty. A sibling folder "outside" never changes.

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "backends/file.h"
#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;

fs::path box, root, outside;
std::unique_ptr<backends::FileBackend> store;

void Cleanup() { fs::remove_all(box); }

std::size_t CountEntries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/backends-fuzz-file-key-XXXXXX";
  box = ::mkdtemp(tmpl);
  root = box / "root";
  outside = box / "outside";
  fs::create_directories(outside);
  std::ofstream(outside / "canary") << "OUTSIDE";
  auto opened = backends::FileBackend::Open(root);
  if (!opened.ok()) std::abort();
  store = std::move(*opened);
  std::atexit(Cleanup);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  if (size > 1200) return 0;
  std::string key(reinterpret_cast<const char*>(data), size);
  Status valid = ValidateFileKey("fuzz", key);
  auto path = store->path(key);
  if (!valid.ok()) {
    FUZZ_CHECK(valid.code() == ErrorCode::kInvalidArgument, valid.ToString());
    FUZZ_CHECK(
        !path.ok() && path.status().code() == ErrorCode::kInvalidArgument,
        QuoteKey(key));
    FUZZ_CHECK(store->dump(key, "v").code() == ErrorCode::kInvalidArgument,
               QuoteKey(key));
    FUZZ_CHECK(store->load(key).status().code() == ErrorCode::kInvalidArgument,
               QuoteKey(key));
    FUZZ_CHECK(
        store->remove(key).status().code() == ErrorCode::kInvalidArgument,
        QuoteKey(key));
    FUZZ_CHECK(CountEntries(root) == 0, "a refused key wrote " + QuoteKey(key));
  } else {
    FUZZ_CHECK(path.ok(), path.status().ToString());
    FUZZ_CHECK(*path == root / key, path->string());
    FUZZ_CHECK(path->lexically_normal() == *path, path->string());
    auto rel = path->lexically_relative(root);
    FUZZ_CHECK(!rel.empty() && *rel.begin() != "..", path->string());
    Status dumped = store->dump(key, key);
    FUZZ_CHECK(dumped.ok(), dumped.ToString());
    struct stat st;
    FUZZ_CHECK(::lstat(path->c_str(), &st) == 0 && S_ISREG(st.st_mode),
               "not stored at " + path->string());
    auto loaded = store->load(key);
    FUZZ_CHECK(loaded.ok() && loaded->has_value() && **loaded == key,
               QuoteKey(key));
    auto keys = store->keys();
    FUZZ_CHECK(keys.ok() && keys->size() == 1 && (*keys)[0] == key,
               QuoteKey(key));
    auto removed = store->remove(key);
    FUZZ_CHECK(removed.ok() && *removed, QuoteKey(key));
    FUZZ_CHECK(CountEntries(root) == 0,
               "remove left folders for " + QuoteKey(key));
  }
  FUZZ_CHECK(CountEntries(box) == 2 && CountEntries(outside) == 1,
             "something appeared beside the root for " + QuoteKey(key));
  return 0;
}
