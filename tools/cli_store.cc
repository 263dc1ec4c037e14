#include "cli_store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <utility>
#include <vector>

#include "backends/file.h"
#include "backends/json.h"
#include "backends/open.h"

namespace backends::cli {
namespace {

bool HasScheme(std::string_view text) {
  std::size_t colon = text.find("://");
  if (colon == 0 || colon == std::string_view::npos) return false;
  return std::all_of(text.begin(), text.begin() + colon, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
           c == '-' || c == '.';
  });
}

// A local path as a file:// URL whose path decodes back to it byte for
// byte. A relative path that does not start with "." or ".." is put under
// "./": the URL's first segment (its authority) is not percent-decoded.
std::string FileUrlOf(std::string_view path) {
  const bool dotted = path == "." || path == ".." || path.starts_with("./") ||
                      path.starts_with("../");
  const std::string scheme =
      path.starts_with('/') || dotted ? "file://" : "file://./";
  return scheme + PercentEncode(path, "/");
}

// The folder of a file:// URL, as OpenBackend reads it.
std::string FolderOf(const Url& url) {
  if (url.authority.empty() || url.authority == "localhost") return url.path;
  return url.authority + url.path;
}

}  // namespace

Result<StoreSpec> StoreSpec::Parse(std::string_view argument) {
  const std::string text =
      HasScheme(argument) ? std::string(argument) : FileUrlOf(argument);
  BACKENDS_ASSIGN_OR_RETURN(StoreUrl url, StoreUrl::Parse(text));
  StoreSpec spec;
  static_cast<StoreUrl&>(spec) = std::move(url);
  return spec;
}

bool StoreSpec::FolderMissing() const {
  if (!store_url.starts_with("file:")) return false;
  auto url = Url::Parse(store_url);
  if (!url.ok()) return false;
  const std::string folder = FolderOf(*url);
  std::error_code error;
  // Normalised as FileBackend::Open does: "sub/../up" is "up".
  const auto normal = std::filesystem::path(folder).lexically_normal();
  return !folder.empty() && !std::filesystem::exists(normal, error);
}

Result<std::unique_ptr<Store>> Store::Open(const StoreSpec& spec,
                                           OpenMode mode) {
  if (mode == OpenMode::kExisting && spec.FolderMissing()) {
    BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(spec.store_url));
    return NotFoundError("no such folder " + QuoteKey(FolderOf(url)) +
                         " (nothing was created)");
  }
  if (mode == OpenMode::kExisting && spec.store_url.starts_with("sqlite:")) {
    BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(spec.store_url));
    const std::string file = FolderOf(url);
    std::error_code error;
    if (!file.empty() && !std::filesystem::exists(file, error)) {
      return NotFoundError("no such database file " + QuoteKey(file) +
                           " (nothing was created)");
    }
  }
  BACKENDS_ASSIGN_OR_RETURN(OpenedStore opened, OpenStore(spec));
  return std::make_unique<Store>(spec, std::move(opened.backend));
}

Backend& Store::base() const {
  Backend* backend = backend_.get();
  while (auto* wrapper = dynamic_cast<BackendWrapper*>(backend)) {
    backend = &wrapper->inner();
  }
  return *backend;
}

Result<std::string> StoreSpec::ToStored(std::string_view key,
                                        std::string bytes) const {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  if (store_url.starts_with("file:")) {
    BACKENDS_RETURN_IF_ERROR(ValidateFileKey("dump", key));
  }
  switch (format) {
    case ValueFormat::kRaw:
      return bytes;
    case ValueFormat::kText:
      return TextCodec{}.Encode(key, bytes);
    case ValueFormat::kJson: {
      auto json = ParseJson(bytes);
      if (!json.ok()) {
        return InvalidArgumentError(
            "dump " + QuoteKey(key) +
            ": value is not valid JSON: " + json.status().message());
      }
      return JsonCodec{json_format}.Encode(key, *json);
    }
  }
  return InternalError("unknown value format");
}

Result<std::string> Store::FromStored(std::string_view key,
                                      std::string bytes) const {
  switch (spec_.format) {
    case ValueFormat::kRaw:
      return bytes;
    case ValueFormat::kText:
      return TextCodec{}.Decode(key, std::move(bytes));
    case ValueFormat::kJson: {
      const JsonCodec codec{spec_.json_format};
      BACKENDS_ASSIGN_OR_RETURN(Json json, codec.Decode(key, std::move(bytes)));
      return codec.Encode(key, json);
    }
  }
  return InternalError("unknown value format");
}

}  // namespace backends::cli
