// S3Client::SendStream: one signed request whose body streams (see
// BodyStreams in curl_transport.h). The payload hash is the caller's (it
// has read the body once to compute it), so the bytes are never held here.
// Sent once, without Send's retry loop: a streamed answer may already have
// reached the sink, so only the caller knows how to resume (s3_stream.cc,
// s3_multipart.cc).

#include "s3/s3_client.h"

namespace backends::s3 {

Result<HttpResponse> S3Client::SendStream(const Request& request,
                                          const std::string& payload_sha256,
                                          BodyStreams& streams,
                                          std::string_view context) {
  ScopedBodyStreams bind(&streams);
  S3Endpoint used = endpoint();
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                            SendOnce(used, request, payload_sha256, context));
  // A wrong region is answered before any body byte reaches the sink.
  if (CorrectRegion(used, response)) {
    return SendOnce(endpoint(), request, payload_sha256, context);
  }
  return response;
}

}  // namespace backends::s3
