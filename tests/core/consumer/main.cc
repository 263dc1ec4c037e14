// A program outside the project that finds the installed library.
#include <cstdio>

#include "backends/file.h"
#include "backends/memory.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto store = backends::FileSystemJsonBackend::Open(argv[1]);
  if (!store.ok()) return 3;
  if (!store->dump("greeting", {{"hello", "world"}}).ok()) return 4;
  auto value = store->load("greeting");
  if (!value.ok() || !*value || (**value)["hello"] != "world") return 5;
  backends::VolatileBackend memory;
  if (!memory.dump("k", "v").ok()) return 6;
  std::puts("consumer ok");
  return 0;
}
