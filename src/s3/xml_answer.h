#pragma once

// S3's XML answers, read by their fields as the AWS SDKs read them. Servers
// name the root element differently (AWS answers CompleteMultipartUpload
// with <CompleteMultipartUploadResult>, moto with
// <CompleteMultipartUploadResponse>), so the root's name is not checked:
// an answer is what its fields say. An <Error> root is an error answer,
// even inside a 200.

#include <memory>
#include <pugixml.hpp>
#include <string_view>

#include "backends/status.h"

namespace backends::s3 {

class XmlAnswer {
 public:
  /// Parses `body`, the answer to `method` (e.g. "POST ?uploads"). Errors:
  /// kDataLoss naming `context` for a body that is not XML; an <Error>
  /// document becomes the Status its code maps to (s3_errors.h).
  static Result<XmlAnswer> Parse(std::string_view body, std::string_view method,
                                 std::string_view context);

  /// The element that holds the child `field`: the root, or else the first
  /// element under the root that does (a ...Response wrapping a ...Result).
  /// The root when none holds it, so reading its children finds nothing.
  pugi::xml_node Holder(const char* field) const;

  /// Whether some element `Holder(field)` returns has the child `field`.
  bool Has(const char* field) const { return Holder(field).child(field); }

 private:
  explicit XmlAnswer(std::unique_ptr<pugi::xml_document> doc)
      : doc_(std::move(doc)) {}

  std::unique_ptr<pugi::xml_document> doc_;  // pointer: answers move
};

}  // namespace backends::s3
