#pragma once

// What cp does differently when a side is a folder: it names the files a
// folder store does not list (so they are not copied silently), and it
// keeps a file's permission bits and modification time from folder to
// folder.

#include <string>
#include <string_view>
#include <vector>

#include "backends/file.h"
#include "backends/status.h"

namespace backends::cli {

/// A file under a folder that cp does not read, and why.
struct SkippedFile {
  std::string name;  // Relative to the folder, '/'-separated.
  std::string reason;
};

/// The files under `store`'s folder whose names start with `prefix` that
/// list() leaves out: symbolic links, FIFOs, sockets and devices, names
/// that are not valid keys (not UTF-8, control characters, ...) and the
/// store's temporary files. Never fails: an unreadable sub-folder is one
/// entry.
std::vector<SkippedFile> FilesCpSkips(const FileBackend& store,
                                      std::string_view prefix);

/// Gives the file of `key` in `destination` the permission bits and the
/// modification time of its file in `source`. Errors: kIOError naming the
/// key.
Status KeepFileMetadata(const FileBackend& source,
                        const FileBackend& destination, std::string_view key);

}  // namespace backends::cli
