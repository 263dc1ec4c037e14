#pragma once

// A snapshot of a folder the store must never touch: every entry's type,
// size, modification time, link target and a hash of its bytes. Comparing
// two snapshots proves nothing outside the store's root was read-modified,
// written or removed. (Reads do not change a snapshot; the hostile-key
// tests catch reads by planting distinctive bytes outside and checking that
// no load ever returns them.)

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "reliability/sealed_value.h"

namespace backends::reliability {

using Snapshot = std::map<std::string, std::string>;

inline Snapshot TakeSnapshot(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  Snapshot out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat st;
    if (::lstat(entry.path().c_str(), &st) != 0) continue;
    std::string desc = "mode=" + std::to_string(st.st_mode) +
                       " size=" + std::to_string(st.st_size) +
                       " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
                       std::to_string(st.st_mtim.tv_nsec) +
                       " ino=" + std::to_string(st.st_ino);
    if (S_ISLNK(st.st_mode)) {
      desc += " -> " + fs::read_symlink(entry.path()).string();
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      desc += " hash=" + HexU64(HashBytes(ss.str(), 0));
    }
    out[fs::relative(entry.path(), dir).string()] = desc;
  }
  return out;
}

/// Writes `bytes` to `path`, creating folders.
inline void PlantFile(const std::filesystem::path& path,
                      const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace backends::reliability
