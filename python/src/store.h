#pragma once

// Store: one C++ store as Python sees it. It holds the byte store (any
// Backend, possibly layered), the kind of values it takes (bytes, text or
// JSON), and does the conversions on the way in and out. The Python classes
// (VolatileBackend, FileSystemJsonBackend, S3RawBackend, JsonCache, ...) are
// thin subclasses that add their extras and constructors.
//
// GIL: every call converts its arguments with the GIL held, releases it for
// the C++ call (all I/O), and takes it back to build the result. Stores are
// shared between threads the way the C++ stores are.
//
// Fork: a store remembers whether a call was in flight (in another thread)
// when the process forked. In the child, a store that can be reopened (file,
// S3, caches) is reopened on first use, and the inherited one is left
// untouched (never destroyed: its connections belong to the parent); a
// memory store works on, unless a call was in flight, which may have held a
// lock forever: then every call raises FailedPreconditionError.

#include <pybind11/pybind11.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/json.h"
#include "backends/view.h"

namespace backends::python {

namespace py = pybind11;

enum class ValueKind { kRaw, kText, kJson };

/// The bytes of a bytes-like object, or of a str as UTF-8. Raises TypeError
/// naming `operation` and `key` for anything else.
std::string BytesOf(py::handle value, std::string_view operation,
                    std::string_view key);

/// Makes (or remakes, in a forked child) the byte store. Called with the
/// GIL held; openers that do I/O release it themselves.
using Opener = std::function<std::shared_ptr<Backend>()>;

class Store {
 public:
  /// A store that is reopened by `opener` in a forked child.
  Store(ValueKind kind, Opener opener);
  /// A store that cannot be reopened (memory).
  Store(ValueKind kind, std::shared_ptr<Backend> backend);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store();

  // The original's interface. Missing keys: load -> None, delete -> False.
  py::object load(const std::string& key);
  bool dump(const std::string& key, py::handle value);
  bool remove(const std::string& key);
  // Backend::copy / rename (False: no such source key) and dump_if (the new
  // version; a failed condition raises).
  bool copy(const std::string& src_key, const std::string& dst_key);
  bool rename(const std::string& src_key, const std::string& dst_key);
  std::string dump_if(const std::string& key, py::handle value,
                      bool if_absent, std::optional<std::string> if_version);
  py::set keys();
  py::list list(const std::string& prefix);
  py::object items();
  py::object iter();
  std::size_t size();
  bool contains(py::handle key);
  void clear();

  // Mapping protocol on top.
  py::object getitem(const std::string& key);
  void setitem(const std::string& key, py::handle value);
  void delitem(const std::string& key);
  py::object get(const std::string& key, py::object fallback);

  // Batches: one result per key, in order; the first failure raises after
  // every key was tried.
  py::list load_many(const std::vector<std::string>& keys);
  bool dump_many(py::handle items);

  // Streams: `file` is an open file object (binary or text).
  bool dump_stream(const std::string& key, py::handle file);
  bool load_stream(const std::string& key, py::handle file);

  std::string url();
  std::string repr(py::handle self);
  void close();

  ValueKind kind() const { return kind_; }

  /// items() and iter(): see store.cc.
  class KeyPager;
  class KeyIterator;
  class ItemIterator;

  /// The byte store for one call: raises if closed or unusable after a
  /// fork, and reopens it in a forked child. REQUIRES: the GIL is held.
  std::shared_ptr<Backend> Acquire();

  /// Runs `call(backend)` with the GIL released, counted as in flight.
  template <typename F>
  auto Run(F&& call) {
    std::shared_ptr<Backend> backend = Acquire();
    InFlight guard(in_flight_);
    py::gil_scoped_release release;
    return call(*backend);
  }

  /// Marks every live store as inherited by a forked child (atfork).
  static void AfterForkInChild();

  /// How JSON values are written (a URL's indent= and ensure_ascii=).
  void SetJsonFormat(const JsonFormat& format) { json_codec_.format = format; }

  /// Stores this one calls into (a read-through layer's front and back): a
  /// call in flight here at a fork counts as in flight in them too.
  void AddPart(Store* part) { parts_.push_back(part); }

 protected:
  /// Value -> stored bytes (GIL held for Python values).
  std::string Encode(std::string_view key, py::handle value,
                     std::string_view operation);
  /// Stored bytes -> value (GIL held).
  py::object Decode(std::string_view key, std::string bytes);

  /// JSON stores: the value under `key` as Python objects, or None (the
  /// bytes load and parse without the GIL). Caches override it.
  virtual py::object LoadJsonObject(const std::string& key);
  /// JSON stores: dump of a converted value without the GIL. Caches
  /// override it with their typed call.
  virtual Status DumpJson(Backend& backend, std::string_view key,
                          const Json& value);
  /// Batches without the GIL; S3 overrides them with parallel requests.
  virtual std::vector<Result<std::optional<std::string>>> LoadBatch(
      Backend& backend, std::span<const std::string> keys);
  virtual std::vector<Status> DumpBatch(
      Backend& backend,
      std::span<const std::pair<std::string, std::string>> items);

  JsonCodec json_codec_;

 private:
  struct InFlight {
    explicit InFlight(std::atomic<int>& count) : count_(count) { ++count_; }
    ~InFlight() { --count_; }
    std::atomic<int>& count_;
  };
  void Register();

  ValueKind kind_;
  Opener opener_;
  std::vector<Store*> parts_;         // Kept alive by the opener's references.
  std::shared_ptr<Backend> backend_;  // Null once closed. Guarded by the GIL.
  bool closed_ = false;
  std::atomic<int> in_flight_{0};
  // Set in a forked child by AfterForkInChild.
  bool forked_ = false;
  bool busy_at_fork_ = false;
  bool unusable_ = false;
};

/// Binds Store as backends.Backend (with iteration and mapping methods).
void BindStore(py::module_& m);

}  // namespace backends::python
