#pragma once

// cp's own walk of a folder store: the keys under a prefix in the order the
// store lists them, and on the same walk what its listing leaves out (the
// files cp skips, the temporary files writers left), so an unchanged copy
// reads each folder once.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "backends/file.h"
#include "backends/status.h"

namespace backends::cli {

/// Walks `folder` depth first, one folder read whole at a time (so memory
/// is the largest folder on the way), yielding the keys that start with
/// `prefix` sorted bytewise, as FileBackend::list_entries does; with
/// `with_info` each entry carries the file's size and modification time
/// (not the version). Files that are not keys (links, FIFOs, sockets,
/// devices, invalid names, temporary files) go to `on_skipped` with the
/// reason when their names start with `prefix`; temporary files are also
/// counted in every folder read, whatever their names.
class FolderWalk {
 public:
  using OnSkipped =
      std::function<void(const std::string& name, const std::string& reason)>;

  FolderWalk(const FileBackend& folder, std::string prefix, bool with_info,
             OnSkipped on_skipped = {});
  ~FolderWalk();
  FolderWalk(const FolderWalk&) = delete;
  FolderWalk& operator=(const FolderWalk&) = delete;

  /// Moves to the next key; false at the end. Errors: kIOError (or the
  /// errno's status) for a folder that cannot be read.
  Result<bool> Next();
  const ListEntry& entry() const { return entry_; }
  /// Temporary files seen in the folders read so far.
  std::size_t temp_files_seen() const { return temp_files_; }

 private:
  struct Frame;
  Status Enter(int parent_fd, const std::string& name, std::string path);

  const FileBackend& folder_;
  std::string prefix_;
  bool with_info_;
  OnSkipped on_skipped_;
  std::vector<std::unique_ptr<Frame>> stack_;
  bool started_ = false;
  ListEntry entry_;
  std::size_t temp_files_ = 0;
};

}  // namespace backends::cli
