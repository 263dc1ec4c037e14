#include "s3/xml_answer.h"

#include <string>
#include <utility>

#include "s3/s3_errors.h"

namespace backends::s3 {

Result<XmlAnswer> XmlAnswer::Parse(std::string_view body,
                                   std::string_view method,
                                   std::string_view context) {
  auto doc = std::make_unique<pugi::xml_document>();
  if (!doc->load_buffer(body.data(), body.size()) || !doc->document_element()) {
    return DataLossError(std::string(context) + ": s3 " + std::string(method) +
                         " answered with a body that is not XML");
  }
  if (std::string_view(doc->document_element().name()) == "Error") {
    // The failure was found after the 200 status line went out: a server
    // error, unless it says access was denied.
    S3ErrorInfo info = ParseS3Error(500, body);
    if (info.code == "AccessDenied") info.http_status = 403;
    return S3Error(context, method, info);
  }
  return XmlAnswer(std::move(doc));
}

pugi::xml_node XmlAnswer::Holder(const char* field) const {
  const pugi::xml_node root = doc_->document_element();
  if (root.child(field)) return root;
  for (pugi::xml_node element : root.children()) {
    if (element.type() == pugi::node_element && element.child(field)) {
      return element;
    }
  }
  return root;
}

}  // namespace backends::s3
