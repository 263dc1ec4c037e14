#include "backends/view.h"

#include "backends/open.h"

namespace backends {

std::string ViewUrl(const Backend& store, std::string_view format) {
  std::string url = store.url();
  if (format == RawCodec::kUrlFormat) return url;
  return AddUrlParam(url, "format", format);
}

std::string ViewUrl(const Backend& store, const JsonCodec& codec) {
  std::string url = ViewUrl(store, JsonCodec::kUrlFormat);
  auto said = Url::Parse(url);
  if (said.ok() && (said->Param("indent") || said->Param("ensure_ascii"))) {
    return url;
  }
  return AddJsonFormatParams(url, codec.format);
}

Result<std::string> RawCodec::Encode(std::string_view,
                                     const Value& value) const {
  return value;
}

Result<RawCodec::Value> RawCodec::Decode(std::string_view,
                                         std::string bytes) const {
  return bytes;
}

Result<std::string> TextCodec::Encode(std::string_view key,
                                      const Value& value) const {
  if (!IsValidUtf8(value)) {
    return InvalidArgumentError("dump " + QuoteKey(key) +
                                ": text value is not valid UTF-8");
  }
  return value;
}

Result<TextCodec::Value> TextCodec::Decode(std::string_view key,
                                           std::string bytes) const {
  if (!IsValidUtf8(bytes)) {
    return DataLossError("load " + QuoteKey(key) +
                         ": stored text is not valid UTF-8");
  }
  return bytes;
}

Result<std::string> JsonCodec::Encode(std::string_view key,
                                      const Value& value) const {
  auto text = DumpJson(value, format);
  if (!text.ok()) return text.status().WithContext("dump " + QuoteKey(key));
  return text;
}

Result<JsonCodec::Value> JsonCodec::Decode(std::string_view key,
                                           std::string bytes) const {
  auto value = ParseJson(bytes);
  if (!value.ok()) return value.status().WithContext("load " + QuoteKey(key));
  return value;
}

}  // namespace backends
