#pragma once

// Injected filesystem faults for disk_fault_test.cc.
//
// fault_shim.cc defines openat, write, fsync, close, renameat, mkdirat and
// unlinkat in the test executable itself. The dynamic linker binds the
// library's calls to these definitions first (the same interposition an
// LD_PRELOAD shim uses, without a second library to preload), and each one
// forwards to the real function (dlsym RTLD_NEXT) unless a fault is armed.
//
// A fault is armed for the calling thread only, fails one call of one kind
// with one errno (after letting `skip` calls of that kind through), and is
// disarmed when it fires or when the ScopedFault goes away. Standard
// descriptors (0-2) are never faulted, so test output is unaffected.

#include <cstdint>

namespace backends::reliability {

enum class FaultOp {
  kCreate,  // openat with O_CREAT (the temporary file)
  kWrite,
  kFsync,
  kClose,
  kRename,  // renameat
  kMkdir,   // mkdirat
  kUnlink,  // unlinkat
};

const char* FaultOpName(FaultOp op);

/// Arms a fault on this thread while in scope.
class ScopedFault {
 public:
  ScopedFault(FaultOp op, int err, int skip = 0);
  ~ScopedFault();
  ScopedFault(const ScopedFault&) = delete;
  ScopedFault& operator=(const ScopedFault&) = delete;

  /// Whether the fault fired.
  bool fired() const;
};

/// Faults fired since the process started (all threads).
std::uint64_t FaultsInjected();

}  // namespace backends::reliability
