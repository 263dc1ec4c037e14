// The original's S3JsonBackend and S3RawBackend (and S3TextBackend).

#include <pybind11/stl.h>

#include <optional>

#include "bind.h"
#include "classes.h"
#include "opening.h"
#include "streams.h"

namespace backends::python {
namespace {

std::chrono::milliseconds Millis(py::handle seconds) {
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(seconds.cast<double>() * 1000));
}

// The constructor's keyword options. Credentials stay in this struct (and
// the opener, for a forked child's reopen); they are never printed.
S3Options OptionsOf(const std::string& bucket, py::handle region,
                    const py::kwargs& kwargs) {
  S3Options options{.bucket = bucket};
  if (!region.is_none()) options.region = region.cast<std::string>();
  for (auto [name_handle, value] : kwargs) {
    auto name = name_handle.cast<std::string>();
    if (value.is_none()) continue;
    if (name == "prefix") {
      options.prefix = value.cast<std::string>();
    } else if (name == "endpoint") {
      options.endpoint = value.cast<std::string>();
    } else if (name == "path_style") {
      options.addressing = value.cast<bool>() ? S3Addressing::kPathStyle
                                              : S3Addressing::kVirtualHosted;
    } else if (name == "verify_tls") {
      options.verify_tls = value.cast<bool>();
    } else if (name == "ca_bundle") {
      options.ca_bundle = value.cast<std::string>();
    } else if (name == "connect_timeout") {
      options.connect_timeout = Millis(value);
    } else if (name == "request_timeout") {
      options.request_timeout = Millis(value);
    } else if (name == "stall_timeout") {
      options.stall_timeout = ToSeconds(value);
    } else if (name == "max_attempts") {
      options.retry.max_attempts = value.cast<int>();
    } else if (name == "profile") {
      options.profile = value.cast<std::string>();
    } else if (name == "anonymous") {
      options.anonymous = value.cast<bool>();
    } else if (name == "access_key_id") {
      options.access_key_id = value.cast<std::string>();
    } else if (name == "secret_access_key") {
      options.secret_access_key = value.cast<std::string>();
    } else if (name == "session_token") {
      options.session_token = value.cast<std::string>();
    } else if (name == "content_type") {
      options.content_type = value.cast<std::string>();
    } else if (name == "gzip_types") {
      options.gzip_types = value.cast<std::vector<std::string>>();
    } else if (name == "cache_age") {
      options.cache_age = ToSeconds(value);
    } else if (name == "public_read") {
      options.public_read = value.cast<bool>();
    } else if (name == "check_bucket") {
      options.check_bucket = value.cast<bool>();
    } else if (name == "connections") {
      options.connections = value.cast<std::size_t>();
    } else {
      throw py::type_error("unexpected keyword argument '" + name + "'");
    }
  }
  return options;
}

S3PutOptions PutOptionsOf(py::handle content_type, py::handle cache_age,
                          py::handle public_read) {
  S3PutOptions put;
  if (!content_type.is_none())
    put.content_type = content_type.cast<std::string>();
  if (!cache_age.is_none()) put.cache_age = ToSeconds(cache_age);
  if (!public_read.is_none()) put.public_read = public_read.cast<bool>();
  return put;
}

template <ValueKind kKind>
std::unique_ptr<Kinded<S3Store, kKind>> MakeS3(const std::string& bucket,
                                               py::handle region,
                                               const py::kwargs& kwargs) {
  S3Options options = OptionsOf(bucket, region, kwargs);
  if (kKind == ValueKind::kJson && !kwargs.contains("content_type")) {
    options.content_type = "application/json";
  }
  return std::make_unique<Kinded<S3Store, kKind>>(
      kKind, Reopenable(S3Opener(std::move(options))));
}

constexpr const char* kOptionsDoc = R"doc(
Options (keywords): prefix (a folder: key K is the object PREFIX/K;
"p" and "p/" are the same folder, "" the bucket's root),
endpoint ("http://127.0.0.1:7480"; default AWS_ENDPOINT_URL_S3,
AWS_ENDPOINT_URL, else AWS), path_style, verify_tls, ca_bundle (default
AWS_CA_BUNDLE), connect_timeout, request_timeout, stall_timeout (seconds),
max_attempts (retries of safe requests), connections (parallel connections
of batches, default 16), profile, anonymous, access_key_id /
secret_access_key / session_token (default: the standard AWS chain:
environment, ~/.aws files, web identity, container, instance metadata),
content_type, gzip_types, cache_age (Cache-Control max-age), public_read,
check_bucket (HEAD the bucket when opening; default True).
)doc";

template <ValueKind kKind>
auto BindS3Class(py::module_& m, const char* name, const std::string& doc) {
  using Class = Kinded<S3Store, kKind>;
  // pybind11 keeps the pointer: the text must outlive the module.
  auto* full_doc = new std::string(doc + kOptionsDoc);
  return py::class_<Class, S3Store>(m, name, full_doc->c_str())
      .def(py::init([](const std::string& bucket, py::object region,
                       py::kwargs kwargs) {
             return MakeS3<kKind>(bucket, region, kwargs);
           }),
           py::arg("bucket"), py::arg("region") = py::none());
}

}  // namespace

ByteOpener S3Opener(S3Options options) {
  return [options = std::move(options)]() -> Result<std::unique_ptr<Backend>> {
    BACKENDS_ASSIGN_OR_RETURN(auto s3, S3Backend::Open(options));
    return std::unique_ptr<Backend>(std::move(s3));
  };
}

void BindS3(py::module_& m) {
  py::class_<S3Store, Store>(m, "S3Backend", R"doc(
Base of the S3 classes: a bucket (AWS S3 or any S3-compatible server) seen
as a dict. Key K is the object PREFIX/K (the prefix is a folder). Errors keep the
HTTP status and S3 code: 403 is PermissionDeniedError, bad credentials
UnauthenticatedError, a missing bucket NotFoundError, 5xx and network
failures UnavailableError, timeouts DeadlineExceededError (both retried
first). with-blocks close the connections.
)doc")
      .def(
          "url",
          [](S3Store& self, py::args args) -> std::string {
            if (args.size() == 0) return self.url();
            auto backend = self.Acquire();
            auto& s3 = static_cast<S3Backend&>(*backend);
            if (args.size() == 1) {
              return s3.public_url(args[0].cast<std::string>());
            }
            if (args.size() == 2) {
              return s3.public_url(args[0].cast<std::string>(),
                                   args[1].cast<std::string>());
            }
            throw py::type_error(
                "url() takes 0, 1 (key) or 2 (bucket, key) "
                "arguments");
          },
          "url(): the store's URL (reopens it with backends.open). url(key): "
          "the public https URL of key (prefix added, key percent-encoded). "
          "url(bucket, key): the original's form, no prefix added.")
      .def(
          "make_public",
          [](S3Store& self, const std::string& key) {
            Check(self.Run([&](Backend& b) {
              return static_cast<S3Backend&>(b).make_public(key);
            }));
            return true;
          },
          py::arg("key"),
          "Makes key readable by anyone (ACL public-read). Returns True. A "
          "missing key raises FailedPreconditionError.")
      .def(
          "make_private",
          [](S3Store& self, const std::string& key) {
            Check(self.Run([&](Backend& b) {
              return static_cast<S3Backend&>(b).make_private(key);
            }));
            return true;
          },
          py::arg("key"), "Makes key readable by its owner only.")
      .def(
          "presign",
          [](S3Store& self, const std::string& key, py::object expires,
             const std::string& method) {
            S3PresignMethod how;
            if (method == "GET") {
              how = S3PresignMethod::kGet;
            } else if (method == "PUT") {
              how = S3PresignMethod::kPut;
            } else {
              throw py::value_error("method must be \"GET\" or \"PUT\"");
            }
            auto expiry = ToSeconds(expires);
            return Check(self.Run([&](Backend& b) {
              return static_cast<S3Backend&>(b).presign(key, expiry, how);
            }));
          },
          py::arg("key"), py::arg("expires") = 3600, py::arg("method") = "GET",
          "A URL that lets anyone holding it GET (or PUT) key for `expires` "
          "seconds (1 to 604800) without credentials. Treat it as a secret.")
      .def(
          "dump_file",
          [](S3Store& self, const std::string& key, const std::string& path) {
            Check(self.Run([&](Backend& b) {
              return static_cast<S3Backend&>(b).dump_file(key, path);
            }));
            return true;
          },
          py::arg("key"), py::arg("path"),
          "Uploads the file at path as key, streamed (multipart above 8 MiB, "
          "aborted on failure), with the content rules of dump (the gzip "
          "types gzipped while streaming). Returns True.")
      .def(
          "load_to_file",
          [](S3Store& self, const std::string& key, const std::string& path) {
            return Check(self.Run([&](Backend& b) {
              return static_cast<S3Backend&>(b).load_to_file(key, path);
            }));
          },
          py::arg("key"), py::arg("path"),
          "Downloads key into the file at path (a temporary file renamed "
          "over it; large objects in parallel ranges). Returns False, "
          "leaving path alone, if there is no such key.");

  BindS3Class<ValueKind::kJson>(m, "S3JsonBackend", R"doc(
S3JsonBackend(bucket, region=None, **options): JSON values in a bucket,
written in the original's format with Content-Type: application/json.
)doc");
  BindS3Class<ValueKind::kText>(m, "S3TextBackend", R"doc(
S3TextBackend(bucket, region=None, **options): str values (UTF-8) in a
bucket.
)doc");
  auto raw = BindS3Class<ValueKind::kRaw>(m, "S3RawBackend", R"doc(
S3RawBackend(bucket, region=None, **options): bytes in a bucket (the
original's class). dump() also takes str (stored as UTF-8) and open file
objects (streamed). Content-Type is given or guessed from the key's
extension; application/javascript and text/css are stored gzipped
(Content-Encoding: gzip) and decoded on load; cache_age adds
Cache-Control: public, max-age=N.
)doc");
  raw.def(
      "dump",
      [](Kinded<S3Store, ValueKind::kRaw>& self, const std::string& key,
         py::handle value, py::handle content_type, py::handle cache_age,
         py::handle public_read) {
        S3PutOptions put = PutOptionsOf(content_type, cache_age, public_read);
        if (py::hasattr(value, "read")) {
          FileSource source(value);
          Status status = self.Run([&](Backend& b) {
            return static_cast<S3Backend&>(b).dump_stream(key, source, put);
          });
          source.Rethrow();
          Check(status);
          return true;
        }
        std::string bytes = BytesOf(value, "dump", key);
        Check(self.Run([&](Backend& b) {
          return static_cast<S3Backend&>(b).dump(key, bytes, put);
        }));
        return true;
      },
      py::arg("key"), py::arg("value"), py::kw_only(),
      py::arg("content_type") = py::none(), py::arg("cache_age") = py::none(),
      py::arg("public_read") = py::none(),
      "Stores bytes, str (as UTF-8) or what an open file object yields "
      "(streamed, never read whole; the gzip types compressed on the way). "
      "Keywords override "
      "the store's content_type, cache_age and public_read. Returns True.");
}

}  // namespace backends::python
