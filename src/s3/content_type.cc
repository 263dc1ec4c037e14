// Extension table: the common web types, matching Python's mimetypes (which
// the original library used) for the types it knows, so both libraries
// label the same key the same way.

#include "s3/content_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace backends::s3 {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 41> kTypes =
    {{
        {"css", "text/css"},
        {"csv", "text/csv"},
        {"htm", "text/html"},
        {"html", "text/html"},
        {"ics", "text/calendar"},
        {"js", "application/javascript"},
        {"mjs", "application/javascript"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"md", "text/markdown"},
        {"txt", "text/plain"},
        {"text", "text/plain"},
        {"xml", "text/xml"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/vnd.microsoft.icon"},
        {"avif", "image/avif"},
        {"bmp", "image/bmp"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"wasm", "application/wasm"},
        {"mp3", "audio/mpeg"},
        {"wav", "audio/x-wav"},
        {"ogg", "audio/ogg"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mpeg", "video/mpeg"},
        {"yaml", "application/yaml"},
        {"yml", "application/yaml"},
    }};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string GuessContentType(std::string_view key) {
  auto slash = key.rfind('/');
  std::string_view name =
      slash == std::string_view::npos ? key : key.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) {
    return "application/octet-stream";
  }
  std::string extension = Lower(name.substr(dot + 1));
  for (const auto& [ext, type] : kTypes) {
    if (ext == extension) return std::string(type);
  }
  return "application/octet-stream";
}

bool ContentTypeIn(std::string_view content_type,
                   const std::vector<std::string>& types) {
  std::string media =
      Lower(Trim(content_type.substr(0, content_type.find(';'))));
  for (const auto& type : types) {
    if (Lower(Trim(type)) == media) return true;
  }
  return false;
}

PutPlan PlanPut(const S3Options& options, std::string_view key,
                const S3PutOptions& put) {
  PutPlan plan;
  std::string type = put.content_type.value_or(options.content_type);
  if (type.empty()) type = GuessContentType(key);
  plan.gzip = ContentTypeIn(type, options.gzip_types);
  plan.headers.emplace_back("Content-Type", type);
  if (auto age = put.cache_age ? put.cache_age : options.cache_age) {
    plan.headers.emplace_back(
        "Cache-Control", "public, max-age=" + std::to_string(age->count()));
  }
  if (put.public_read.value_or(options.public_read)) {
    plan.headers.emplace_back("x-amz-acl", "public-read");
  }
  return plan;
}

}  // namespace backends::s3
