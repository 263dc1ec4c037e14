// Helper process for sqlite_process_test.cc.
//
//   sqlite_worker mixed DB ID OPS   OPS mixed operations on one shared file:
//       dump/load/remove/stat/contains/list_page on keys of its own (checked
//       against what it wrote) and dumps of keys every worker writes. Prints
//       its own keys' final values ("key gen" or "key -" per line) at the end.
//   sqlite_worker crash DB GEN      dumps sealed values (generations from GEN)
//   (some streamed, over
//       1 MiB) forever, printing "key gen" after each acknowledged dump.
// Any error: the message on stderr, exit 1.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "backends/sqlite.h"
#include "reliability/sealed_value.h"

namespace {

using backends::reliability::Seal;
using backends::reliability::Unseal;

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << what << std::endl;
  std::exit(1);
}

template <typename R>
auto Check(R result, const std::string& what) {
  if (!result.ok()) Fail(what + ": " + result.status().ToString());
  return std::move(result).value();
}

void CheckOk(const backends::Status& status, const std::string& what) {
  if (!status.ok()) Fail(what + ": " + status.ToString());
}

class StringSource : public backends::ByteSource {
 public:
  explicit StringSource(std::string bytes) : bytes_(std::move(bytes)) {}
  backends::Result<std::size_t> Read(std::span<char> buffer) override {
    const std::size_t n = std::min(buffer.size(), bytes_.size() - offset_);
    std::copy_n(bytes_.data() + offset_, n, buffer.data());
    offset_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t offset_ = 0;
};

int Mixed(const std::string& db, int id, int ops) {
  auto store = Check(backends::NewSqliteBackend(db), "open");
  std::mt19937 random(static_cast<unsigned>(id) * 7919u + 1u);
  const std::string mine = "p" + std::to_string(id) + "/";
  std::map<std::string, std::uint64_t> expected;  // 0: absent
  for (int i = 1; i <= ops; ++i) {
    const std::string key = mine + std::to_string(random() % 40);
    const auto gen = static_cast<std::uint64_t>(i);
    switch (random() % 10) {
      case 0:
      case 1:
      case 2: {
        CheckOk(store->dump(key, Seal(key, gen, 200 + random() % 800)),
                "dump " + key);
        expected[key] = gen;
        break;
      }
      case 3: {
        const std::string shared = "shared/" + std::to_string(random() % 10);
        CheckOk(store->dump(shared, Seal(shared, gen, 300)), "dump " + shared);
        break;
      }
      case 4: {
        const bool had = Check(store->remove(key), "remove " + key);
        if (had != (expected[key] != 0)) Fail("remove " + key + ": wrong");
        expected[key] = 0;
        break;
      }
      case 5: {
        auto info = Check(store->stat(key), "stat " + key);
        if (info.has_value() != (expected[key] != 0)) {
          Fail("stat " + key + ": lost write");
        }
        break;
      }
      case 6: {
        auto page = Check(store->list_page(mine, "", 100), "list " + mine);
        std::size_t live = 0;
        for (const auto& [k, g] : expected) live += g != 0;
        if (page.keys.size() != live) Fail("list " + mine + ": lost write");
        break;
      }
      default: {
        auto value = Check(store->load(key), "load " + key);
        if (expected[key] == 0) {
          if (value) Fail("load " + key + ": a removed key came back");
          break;
        }
        if (!value) Fail("load " + key + ": lost write");
        auto sealed = Unseal(*value);
        if (!sealed || sealed->gen != expected[key]) {
          Fail("load " + key + ": not the last value written");
        }
      }
    }
  }
  for (const auto& [key, gen] : expected) {
    std::cout << key << ' '
              << (gen == 0 ? std::string("-") : std::to_string(gen)) << '\n';
  }
  return 0;
}

int Crash(const std::string& db, std::uint64_t first_gen) {
  auto store = Check(backends::NewSqliteBackend(db), "open");
  std::mt19937 random(std::random_device{}());
  for (std::uint64_t gen = first_gen;; ++gen) {
    const bool big = random() % 8 == 0;
    const std::string key = big ? "big/" + std::to_string(random() % 3)
                                : "small/" + std::to_string(random() % 16);
    std::string value =
        Seal(key, gen, big ? (1u << 20) + random() % 100000 : 1000);
    if (big) {
      StringSource source(std::move(value));
      CheckOk(store->dump_stream(key, source), "dump " + key);
    } else {
      CheckOk(store->dump(key, value), "dump " + key);
    }
    std::cout << key << ' ' << gen << std::endl;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "mixed" && argc == 5) {
    return Mixed(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  if (mode == "crash" && argc == 4) {
    return Crash(argv[2], std::strtoull(argv[3], nullptr, 10));
  }
  std::cerr << "usage: sqlite_worker mixed DB ID OPS | crash DB FIRST_GEN\n";
  return 2;
}
