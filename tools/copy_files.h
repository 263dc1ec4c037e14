#pragma once

// What cp does differently from folder to folder: it keeps a file's
// permission bits and modification time. (The files a folder store does not
// list are named by cp's walk of the folder, folder_walk.h.)

#include <string>
#include <string_view>

#include "backends/file.h"
#include "backends/status.h"

namespace backends::cli {

/// Gives the file of `key` in `destination` the permission bits and the
/// modification time of its file in `source`. Errors: kIOError naming the
/// key.
Status KeepFileMetadata(const FileBackend& source,
                        const FileBackend& destination, std::string_view key);

}  // namespace backends::cli
