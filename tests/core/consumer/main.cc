// A program outside the project that finds the installed library.
#include <cstdio>
#include <string_view>

#include "backends/file.h"
#include "backends/memory.h"
#include "backends/version.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto store = backends::FileSystemJsonBackend::Open(argv[1]);
  if (!store.ok()) return 3;
  if (!store->dump("greeting", {{"hello", "world"}}).ok()) return 4;
  auto value = store->load("greeting");
  if (!value.ok() || !*value || (**value)["hello"] != "world") return 5;
  backends::VolatileBackend memory;
  if (!memory.dump("k", "v").ok()) return 6;
  const std::string_view version = backends::Version();
  if (version.empty()) return 7;
  std::printf("consumer ok (backends %.*s)\n", static_cast<int>(version.size()),
              version.data());
  return 0;
}
