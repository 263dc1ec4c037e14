#include "store.h"

#include <pybind11/stl.h>

#include <unordered_set>

#include "backends/cache.h"
#include "backends/view.h"
#include "errors.h"
#include "json_convert.h"
#include "json_load.h"
#include "streams.h"

namespace backends::python {
namespace {

// Every live Store, for the fork handler. Only touched with the GIL held:
// by constructors, destructors, and the child after os.fork() (which holds
// the GIL while it forks), so no other thread can be changing it.
std::unordered_set<Store*>& Registry() {
  static auto* stores = new std::unordered_set<Store*>();
  return *stores;
}

// How many values an items() iterator loads per batch (one batch of
// parallel requests on S3).
constexpr std::size_t kItemsBatch = 64;
// Keys read per page by the iterators (one ListObjectsV2 request on S3).
constexpr std::size_t kKeysPage = 1000;

}  // namespace

std::string BytesOf(py::handle value, std::string_view operation,
                    std::string_view key) {
  if (PyUnicode_Check(value.ptr())) return value.cast<std::string>();
  if (PyBytes_Check(value.ptr())) return std::string(value.cast<py::bytes>());
  if (PyObject_CheckBuffer(value.ptr())) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(value).request();
    return std::string(static_cast<const char*>(info.ptr),
                       static_cast<std::size_t>(info.size * info.itemsize));
  }
  throw py::type_error(std::string(operation) + " " + QuoteKey(key) +
                       ": expected bytes or str, not " +
                       Py_TYPE(value.ptr())->tp_name);
}

// Reads the keys a page at a time (list_page), so iterating holds one page
// of keys however many the store has. The first page is read when it is
// made, so a store that cannot list raises at once.
class Store::KeyPager {
 public:
  explicit KeyPager(Store* store) : store_(store) { Fetch(); }

  /// Up to `count` next keys; none at the end.
  std::vector<std::string> Take(std::size_t count) {
    std::vector<std::string> out;
    while (out.size() < count) {
      if (next_ == page_.keys.size()) {
        if (!page_.more || page_.keys.empty()) break;
        Fetch();
        continue;
      }
      out.push_back(page_.keys[next_++]);
    }
    return out;
  }

 private:
  void Fetch() {
    const std::string after = page_.keys.empty() ? "" : page_.keys.back();
    page_ = Check(store_->Run([&](Backend& backend) {
      return backend.list_page("", after, kKeysPage);
    }));
    next_ = 0;
  }

  Store* store_;
  KeyPage page_;
  std::size_t next_ = 0;
};

// iter(store): the keys, page by page.
class Store::KeyIterator {
 public:
  KeyIterator(Store* store, py::object owner)
      : owner_(std::move(owner)), keys_(store) {}

  py::object Next() {
    if (at_ == batch_.size()) {
      batch_ = keys_.Take(kKeysPage);
      at_ = 0;
      if (batch_.empty()) throw py::stop_iteration();
    }
    return py::str(batch_[at_++]);
  }

 private:
  py::object owner_;  // Keeps the store alive.
  KeyPager keys_;
  std::vector<std::string> batch_;
  std::size_t at_ = 0;
};

// items(): the keys page by page, the values loaded in batches as it
// reaches them; a key removed meanwhile is skipped.
class Store::ItemIterator {
 public:
  ItemIterator(Store* store, py::object owner)
      : store_(store), owner_(std::move(owner)), keys_(store) {}

  py::object Next() {
    while (true) {
      if (at_ == loaded_.size()) {
        FillBatch();
        if (loaded_.empty()) throw py::stop_iteration();
      }
      auto& [key, value] = loaded_[at_++];
      if (!value) continue;
      return py::make_tuple(key, store_->Decode(key, std::move(*value)));
    }
  }

 private:
  void FillBatch() {
    std::vector<std::string> batch = keys_.Take(kItemsBatch);
    auto results = store_->Run(
        [&](Backend& backend) { return store_->LoadBatch(backend, batch); });
    loaded_.clear();
    at_ = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
      auto value = Check(std::move(results[i]));
      loaded_.emplace_back(std::move(batch[i]), std::move(value));
    }
  }

  Store* store_;
  py::object owner_;  // Keeps the store alive.
  KeyPager keys_;
  std::vector<std::pair<std::string, std::optional<std::string>>> loaded_;
  std::size_t at_ = 0;
};

Store::Store(ValueKind kind, Opener opener)
    : kind_(kind), opener_(std::move(opener)) {
  backend_ = opener_();
  Register();
}

Store::Store(ValueKind kind, std::shared_ptr<Backend> backend)
    : kind_(kind), backend_(std::move(backend)) {
  Register();
}

void Store::Register() { Registry().insert(this); }

Store::~Store() {
  Registry().erase(this);
  if (forked_ && backend_) {
    // Inherited from the parent and never reopened: its connections and
    // locks are the parent's, so it is left as it is (see store.h).
    new std::shared_ptr<Backend>(std::move(backend_));  // NOLINT: on purpose
  }
}

void Store::AfterForkInChild() {
  // Runs in the child right after fork(), in the thread that forked.
  for (Store* store : Registry()) {
    store->forked_ = true;
    store->busy_at_fork_ = store->in_flight_.load() > 0;
  }
  for (Store* store : Registry()) {
    if (store->in_flight_.load() == 0) continue;
    for (Store* part : store->parts_) part->busy_at_fork_ = true;
  }
  for (Store* store : Registry()) store->in_flight_ = 0;
}

std::shared_ptr<Backend> Store::Acquire() {
  if (closed_) Check(FailedPreconditionError("the store is closed"));
  if (forked_) {
    if (opener_) {
      if (backend_) {
        // Left as it is, never destroyed: see store.h.
        new std::shared_ptr<Backend>(std::move(backend_));  // NOLINT
      }
      backend_ = opener_();  // If it raises, the next call tries again.
    } else if (busy_at_fork_) {
      unusable_ = true;
    }
    forked_ = false;
  }
  if (unusable_) {
    Check(FailedPreconditionError(
        "this in-memory store was in use by another thread when the process "
        "forked, so its state in the child is unknown; open a new store"));
  }
  return backend_;
}

std::string Store::Encode(std::string_view key, py::handle value,
                          std::string_view operation) {
  switch (kind_) {
    case ValueKind::kRaw:
      return BytesOf(value, operation, key);
    case ValueKind::kText:
      if (!PyUnicode_Check(value.ptr())) {
        throw py::type_error(std::string(operation) + " " + QuoteKey(key) +
                             ": a text store takes str, not " +
                             Py_TYPE(value.ptr())->tp_name);
      }
      return value.cast<std::string>();
    case ValueKind::kJson: {
      Json json = PythonToJson(value, operation, key);
      auto text = [&] {
        py::gil_scoped_release release;
        return json_codec_.Encode(key, json);
      }();
      return Check(std::move(text));
    }
  }
  Raise(InternalError("unknown value kind"));
}

py::object Store::Decode(std::string_view key, std::string bytes) {
  switch (kind_) {
    case ValueKind::kRaw:
      return py::bytes(bytes);
    case ValueKind::kText: {
      std::string text = Check(TextCodec{}.Decode(key, std::move(bytes)));
      return py::str(text);
    }
    case ValueKind::kJson: {
      JsonLoader loader;
      loader.Parse(std::move(bytes));
      return loader.Build(key, json_codec_);
    }
  }
  Raise(InternalError("unknown value kind"));
}

py::object Store::LoadJsonObject(const std::string& key) {
  JsonLoader loader;
  bool found = Check(Run([&](Backend& backend) -> Result<bool> {
    BACKENDS_ASSIGN_OR_RETURN(auto bytes, backend.load(key));
    if (!bytes) return false;
    loader.Parse(std::move(*bytes));
    return true;
  }));
  return found ? loader.Build(key, json_codec_) : py::none();
}

Status Store::DumpJson(Backend& backend, std::string_view key,
                       const Json& value) {
  BACKENDS_ASSIGN_OR_RETURN(std::string bytes, json_codec_.Encode(key, value));
  return backend.dump(key, bytes);
}

std::vector<Result<std::optional<std::string>>> Store::LoadBatch(
    Backend& backend, std::span<const std::string> keys) {
  std::vector<Result<std::optional<std::string>>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(backend.load(key));
  return out;
}

std::vector<Status> Store::DumpBatch(
    Backend& backend,
    std::span<const std::pair<std::string, std::string>> items) {
  std::vector<Status> out;
  out.reserve(items.size());
  for (const auto& [key, value] : items)
    out.push_back(backend.dump(key, value));
  return out;
}

py::object Store::load(const std::string& key) {
  if (kind_ == ValueKind::kJson) return LoadJsonObject(key);
  auto bytes = Check(Run([&](Backend& backend) { return backend.load(key); }));
  return bytes ? Decode(key, std::move(*bytes)) : py::none();
}

bool Store::dump(const std::string& key, py::handle value) {
  if (kind_ == ValueKind::kJson) {
    Json json = PythonToJson(value, "dump", key);
    Check(Run([&](Backend& backend) { return DumpJson(backend, key, json); }));
    return true;
  }
  std::string bytes = Encode(key, value, "dump");
  Check(Run([&](Backend& backend) { return backend.dump(key, bytes); }));
  return true;
}

bool Store::remove(const std::string& key) {
  return Check(Run([&](Backend& backend) { return backend.remove(key); }));
}

bool Store::copy(const std::string& src_key, const std::string& dst_key) {
  return Check(
      Run([&](Backend& backend) { return backend.copy(src_key, dst_key); }));
}

bool Store::rename(const std::string& src_key, const std::string& dst_key) {
  return Check(
      Run([&](Backend& backend) { return backend.rename(src_key, dst_key); }));
}

std::string Store::dump_if(const std::string& key, py::handle value,
                           bool if_absent,
                           std::optional<std::string> if_version) {
  std::string bytes;
  if (kind_ == ValueKind::kJson) {
    bytes = Check(json_codec_.Encode(key, PythonToJson(value, "dump_if", key)));
  } else {
    bytes = Encode(key, value, "dump_if");
  }
  const WriteCondition condition{.if_absent = if_absent,
                                 .if_version = std::move(if_version)};
  return Check(Run([&](Backend& backend) {
    return backend.dump_if(key, bytes, condition);
  }));
}

py::set Store::keys() {
  auto keys = Check(Run([](Backend& backend) { return backend.keys(); }));
  py::set out;
  for (const auto& key : keys) out.add(py::str(key));
  return out;
}

py::list Store::list(const std::string& prefix) {
  auto keys =
      Check(Run([&](Backend& backend) { return backend.list(prefix); }));
  py::list out;
  for (const auto& key : keys) out.append(py::str(key));
  return out;
}

py::object Store::items() {
  return py::cast(ItemIterator(this, py::cast(this)));
}

py::object Store::iter() { return py::cast(KeyIterator(this, py::cast(this))); }

std::size_t Store::size() {
  return Check(Run([](Backend& backend) { return backend.size(); }));
}

bool Store::contains(py::handle key) {
  if (!PyUnicode_Check(key.ptr())) return false;
  auto text = key.cast<std::string>();
  return Check(Run([&](Backend& backend) { return backend.contains(text); }));
}

void Store::clear() {
  Check(Run([](Backend& backend) { return backend.clear(); }));
}

py::object Store::getitem(const std::string& key) {
  if (kind_ == ValueKind::kJson) {
    py::object value = LoadJsonObject(key);
    if (value.is_none()) throw py::key_error(key);
    return value;
  }
  auto bytes = Check(Run([&](Backend& backend) { return backend.load(key); }));
  if (!bytes) throw py::key_error(key);
  return Decode(key, std::move(*bytes));
}

void Store::setitem(const std::string& key, py::handle value) {
  dump(key, value);
}

void Store::delitem(const std::string& key) {
  if (!remove(key)) throw py::key_error(key);
}

py::object Store::get(const std::string& key, py::object fallback) {
  py::object value = load(key);
  return value.is_none() ? fallback : value;
}

py::list Store::load_many(const std::vector<std::string>& keys) {
  auto results =
      Run([&](Backend& backend) { return LoadBatch(backend, keys); });
  py::list out;
  const Status* first_error = nullptr;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      if (first_error == nullptr) first_error = &results[i].status();
      continue;
    }
    auto& value = *results[i];
    out.append(value ? Decode(keys[i], std::move(*value)) : py::none());
  }
  if (first_error != nullptr) Raise(*first_error);
  return out;
}

bool Store::dump_many(py::handle items) {
  py::object pairs = py::hasattr(items, "items")
                         ? items.attr("items")()
                         : py::reinterpret_borrow<py::object>(items);
  std::vector<std::pair<std::string, std::string>> encoded;
  for (py::handle pair : pairs) {
    if (!PySequence_Check(pair.ptr()) || PySequence_Size(pair.ptr()) != 2) {
      throw py::type_error("dump_many takes a mapping or (key, value) pairs");
    }
    auto sequence = py::reinterpret_borrow<py::sequence>(pair);
    auto key = sequence[0].cast<std::string>();
    encoded.emplace_back(key, Encode(key, sequence[1], "dump"));
  }
  auto results =
      Run([&](Backend& backend) { return DumpBatch(backend, encoded); });
  std::size_t failed = 0;
  const Status* first_error = nullptr;
  for (const auto& status : results) {
    if (status.ok()) continue;
    ++failed;
    if (first_error == nullptr) first_error = &status;
  }
  if (first_error != nullptr) {
    Raise(Status(first_error->code(),
                 "dump_many: " + std::to_string(failed) + " of " +
                     std::to_string(results.size()) +
                     " failed (the others were stored); first: " +
                     first_error->message()));
  }
  return true;
}

bool Store::dump_stream(const std::string& key, py::handle file) {
  if (kind_ != ValueKind::kRaw) {
    Check(UnimplementedError("dump_stream " + QuoteKey(key) +
                             ": only byte stores stream values"));
  }
  FileSource source(file);
  Status status =
      Run([&](Backend& backend) { return backend.dump_stream(key, source); });
  source.Rethrow();
  Check(status);
  return true;
}

bool Store::load_stream(const std::string& key, py::handle file) {
  if (kind_ != ValueKind::kRaw) {
    Check(UnimplementedError("load_stream " + QuoteKey(key) +
                             ": only byte stores stream values"));
  }
  FileSink sink(file);
  auto found =
      Run([&](Backend& backend) { return backend.load_stream(key, sink); });
  sink.Finish();
  return Check(std::move(found));
}

std::string Store::url() {
  auto backend = Acquire();
  // A cache's URL names its kind; a plain store's gets the format.
  if (dynamic_cast<ExpiringBackend*>(backend.get()) != nullptr) {
    return backend->url();
  }
  switch (kind_) {
    case ValueKind::kJson:
      return ViewUrl(*backend, json_codec_);
    case ValueKind::kText:
      return ViewUrl(*backend, TextCodec::kUrlFormat);
    case ValueKind::kRaw:
      break;
  }
  return backend->url();
}

std::string Store::repr(py::handle self) {
  std::string name = py::str(self.get_type().attr("__name__"));
  if (closed_ || !backend_) return name + "(closed)";
  return name + "(" + std::string(py::repr(py::str(url()))) + ")";
}

void Store::close() {
  // In-flight calls hold their own reference: the store goes when they end.
  closed_ = true;
  if (forked_ && backend_) {
    new std::shared_ptr<Backend>(std::move(backend_));  // NOLINT: see store.h
  }
  backend_.reset();
}

void BindStore(py::module_& m) {
  py::class_<Store::ItemIterator>(m, "_ItemIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &Store::ItemIterator::Next);
  py::class_<Store::KeyIterator>(m, "_KeyIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &Store::KeyIterator::Next);

  py::class_<Store>(m, "Backend", R"doc(
A store with the original library's dict-like interface.

Keys are str. What values are depends on the class: JSON stores take and
return dict, list, str, int, float, bool and None; text stores str; raw
stores bytes. A missing key is never an error: load() returns None and
delete() returns False. Every failure raises a backends.Error subclass.
Every call that does I/O releases the GIL; a store may be shared by threads.
)doc")
      .def("load", &Store::load, py::arg("key"),
           "The value stored under key, or None if there is none.")
      .def("dump", &Store::dump, py::arg("key"), py::arg("value"),
           "Stores value under key, replacing any previous value atomically "
           "(a reader sees the old value or the new one). Returns True; "
           "raises on failure, and the previous value is then intact.")
      .def("delete", &Store::remove, py::arg("key"),
           "Removes key. Returns True if it existed, False if not.")
      .def("copy", &Store::copy, py::arg("src_key"), py::arg("dst_key"),
           "Stores a copy of src_key's value under dst_key (server-side on "
           "S3). Returns False, changing nothing, if src_key does not exist.")
      .def("rename", &Store::rename, py::arg("src_key"), py::arg("dst_key"),
           "Moves src_key's value to dst_key (atomic in folders and SQLite). "
           "Returns False, changing nothing, if src_key does not exist.")
      .def("dump_if", &Store::dump_if, py::arg("key"), py::arg("value"),
           py::kw_only(), py::arg("if_absent") = false,
           py::arg("if_version") = py::none(),
           "dump only if key holds no value (if_absent) or holds the version "
           "if_version (returned by an earlier dump_if); returns the new "
           "version. A failed condition writes nothing and raises "
           "AlreadyExistsError / FailedPreconditionError.")
      .def("keys", &Store::keys,
           "The set of keys, as the store holds them now.")
      .def("list", &Store::list, py::arg("prefix") = "",
           "The keys starting with prefix, sorted.")
      .def("items", &Store::items,
           "An iterator of (key, value) pairs, sorted by key. Keys are read "
           "a page at a time (the first page when it is made) and values "
           "load as it goes (in batches); keys removed meanwhile are "
           "skipped.")
      .def("__len__", &Store::size)
      .def("__contains__", &Store::contains)
      .def("__iter__", &Store::iter,
           "Iterates over the keys, sorted, read a page at a time.")
      .def("__getitem__", &Store::getitem)
      .def("__setitem__", &Store::setitem)
      .def("__delitem__", &Store::delitem)
      .def("get", &Store::get, py::arg("key"), py::arg("default") = py::none(),
           "The value under key, or default if there is none.")
      .def("clear", &Store::clear, "Removes every key.")
      .def("load_many", &Store::load_many, py::arg("keys"),
           "The values of keys (None where missing), in order. S3 loads "
           "them in parallel. Every key is tried; then the first failure "
           "raises.")
      .def("dump_many", &Store::dump_many, py::arg("items"),
           "Stores every (key, value) of a dict or an iterable of pairs "
           "(S3: in parallel). Returns True; after trying every key, raises "
           "the first failure (the others are stored).")
      .def("dump_stream", &Store::dump_stream, py::arg("key"), py::arg("file"),
           "Stores what an open file object yields (binary, or text sent "
           "as UTF-8) without holding it whole where the store can (files, "
           "S3). Byte stores only. Returns True.")
      .def("load_stream", &Store::load_stream, py::arg("key"), py::arg("file"),
           "Writes the value under key to an open file object in pieces. "
           "Returns False (writing nothing) if there is no such key. Byte "
           "stores only.")
      .def("url", &Store::url,
           "A URL that reopens an equivalent store with backends.open(), "
           "never with secrets.")
      .def("close", &Store::close,
           "Releases the store (S3: its connections). Later calls raise "
           "FailedPreconditionError; calls in flight finish first.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](Store& self, py::args) {
             self.close();
             return false;
           })
      .def("__repr__",
           [](py::object self) { return self.cast<Store&>().repr(self); });
}

}  // namespace backends::python
