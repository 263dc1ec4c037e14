// Secrets: every error path of the S3 store, with known credentials, must
// keep the secret key, the session token and the request signatures out of
// error messages, url(), public URLs and anything written to stderr.
//
// The store talks to a hostile HTTP server on 127.0.0.1 that answers every
// request with an error document echoing what it received, as AWS does for
// SignatureDoesNotMatch (SignatureProvided, StringToSign, CanonicalRequest)
// and, worse, inside <Message> too. It also meets a refused connection.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backends/s3.h"
#include "s3/credentials_test_server.h"

namespace backends::reliability {
namespace {

using backends::testing::LocalHttpServer;

constexpr char kAccessKey[] = "AKIDSECRETSTEST00001";
constexpr char kSecret[] = "sEcReTkEy/ForTheSecretsTest+Never+Printed0";
constexpr char kToken[] = "SeSsIoNtOkEnForTheSecretsTestNeverPrinted";

struct Answer {
  int status;
  const char* code;  // nullptr: a body that is not an S3 error document
};

const std::vector<Answer>& Answers() {
  static const std::vector<Answer> answers = {
      {400, "InvalidArgument"},
      {400, "ExpiredToken"},
      {401, nullptr},
      {403, "SignatureDoesNotMatch"},
      {403, "AccessDenied"},
      {403, "InvalidAccessKeyId"},
      {404, "NoSuchBucket"},
      {409, "OperationAborted"},
      {500, "InternalError"},
      {503, "SlowDown"},
      {301, "PermanentRedirect"},
      {200, nullptr},
  };
  return answers;
}

// Extracts "Signature=<hex>" from an Authorization header.
std::string SignatureOf(const std::string& authorization) {
  auto at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

class SecretsTest : public ::testing::Test {
 protected:
  SecretsTest()
      : server_(
            [this](const LocalHttpServer::Request& r) { return Serve(r); }) {}

  LocalHttpServer::Response Serve(const LocalHttpServer::Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string auth = r.header("authorization");
    std::string sig = SignatureOf(auth);
    if (!sig.empty()) signatures_.insert(sig);
    std::string echo = "auth=" + auth +
                       " token=" + r.header("x-amz-security-token") +
                       " path=" + r.path;
    const Answer& a = Answers()[answer_];
    if (a.code == nullptr) {
      // Not XML at all: a proxy's page, with the echo in it.
      return {a.status, "<html>" + echo + "</html>"};
    }
    // AWS puts what it received in SignatureProvided / StringToSign /
    // CanonicalRequest; a hostile or broken server may echo it in Message.
    const std::string message =
        echo_in_message_ ? echo
                         : "The request signature we calculated does "
                           "not match the signature you provided.";
    return {a.status,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" +
                std::string(a.code) + "</Code><Message>" + message +
                "</Message><SignatureProvided>" + sig +
                "</SignatureProvided><StringToSign>" + auth +
                "</StringToSign><CanonicalRequest>x-amz-security-token:" +
                r.header("x-amz-security-token") +
                "</CanonicalRequest><RequestId>r1</RequestId></Error>"};
  }

  S3Options Options(const std::string& endpoint) {
    S3Options o;
    o.bucket = "bucket";
    o.prefix = "app/";
    o.region = "us-east-1";
    o.endpoint = endpoint;
    o.addressing = S3Addressing::kPathStyle;
    o.access_key_id = kAccessKey;
    o.secret_access_key = kSecret;
    o.session_token = kToken;
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.request_timeout = std::chrono::milliseconds(5000);
    // Retries run (each attempt is signed afresh and its answer checked),
    // without waiting between attempts.
    o.retry.max_attempts = 3;
    o.retry.sleep = [](std::chrono::milliseconds) {};
    return o;
  }

  // Every text the store gave back must be free of secrets.
  void Check(const std::string& where, const std::string& text) {
    ++checked_;
    std::vector<std::string> secrets = {kSecret, kToken};
    {
      std::lock_guard<std::mutex> lock(mu_);
      secrets.insert(secrets.end(), signatures_.begin(), signatures_.end());
    }
    for (const auto& secret : secrets) {
      EXPECT_EQ(text.find(secret), std::string::npos)
          << where << " leaks a secret (" << secret.substr(0, 8) << "...):\n  "
          << text;
    }
  }
  void Check(const std::string& where, const Status& status) {
    Check(where, status.ToString());
  }

  // Runs every operation of an opened store against the current answer.
  void RunOperations(S3Backend& s3, const std::string& tag) {
    Check(tag + " dump", s3.dump("k", "v"));
    Check(tag + " dump(put)", s3.dump("k", "v", S3PutOptions{}));
    Check(tag + " load", s3.load("k").status());
    Check(tag + " load_object", s3.load_object("k", true).status());
    Check(tag + " remove", s3.remove("k").status());
    Check(tag + " list", s3.list("").status());
    Check(tag + " stat", s3.stat("k").status());
    Check(tag + " contains", s3.contains("k").status());
    Check(tag + " size", s3.size().status());
    Check(tag + " items", s3.items().status());
    Check(tag + " clear", s3.clear());
    Check(tag + " make_public", s3.make_public("k"));
    Check(tag + " make_private", s3.make_private("k"));
    Check(tag + " url", s3.url());
    Check(tag + " public_url", s3.public_url("k"));
    for (const auto& entry : s3) Check(tag + " iterate", entry.status());
  }

  LocalHttpServer server_;
  std::mutex mu_;
  std::size_t answer_ = 0;
  bool echo_in_message_ = false;
  std::set<std::string> signatures_;
  int checked_ = 0;

  void RunAll();
};

TEST_F(SecretsTest, NoErrorPathPrintsASecret) { RunAll(); }

// A server that echoes the Authorization header and the session token in
// <Message>: the store quotes the server's message in its errors, so the
// message must be scrubbed of what the request carried.
TEST_F(SecretsTest, ServerEchoingTheRequestInItsMessageLeaksNothing) {
  echo_in_message_ = true;
  RunAll();
}

void SecretsTest::RunAll() {
  // Capture stderr: a log line must not leak either.
  std::fflush(stderr);
  char path[] = "/tmp/backends-secrets-stderr-XXXXXX";
  int capture = ::mkstemp(path);
  ASSERT_GE(capture, 0);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(capture, STDERR_FILENO);

  for (std::size_t i = 0; i < Answers().size(); ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      answer_ = i;
    }
    const std::string tag = std::to_string(Answers()[i].status) + " " +
                            (Answers()[i].code ? Answers()[i].code : "no-xml");
    // Open with the bucket check: the HEAD fails.
    auto checked = S3Backend::Open(Options(server_.url()));
    if (!checked.ok()) Check(tag + " open", checked.status());
    S3Options options = Options(server_.url());
    options.check_bucket = false;
    auto opened = S3Backend::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    RunOperations(**opened, tag);
    auto presigned = (*opened)->presign("k", std::chrono::seconds(60));
    if (!presigned.ok()) Check(tag + " presign", presigned.status());
    Check(tag + " options", (*opened)->url());
  }
  // Nobody listening.
  S3Options options = Options(LocalHttpServer::UnusedUrl());
  options.check_bucket = false;
  auto refused = S3Backend::Open(options);
  ASSERT_TRUE(refused.ok()) << refused.status();
  RunOperations(**refused, "refused");
  auto via_url = OpenBackend((*refused)->url());
  if (via_url.ok()) Check("reopened url", (*via_url)->url());

  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string logged;
  char buf[4096];
  ::lseek(capture, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(capture, buf, sizeof buf)) > 0;) {
    logged.append(buf, static_cast<std::size_t>(n));
  }
  ::close(capture);
  ::unlink(path);
  Check("stderr", logged);
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_GT(signatures_.size(), 5u) << "the server saw few signed requests";
  }
  std::printf(
      "secrets: %d texts checked (errors of %zu server answers x 16 "
      "operations, refused connections, url(), stderr); %zu "
      "signatures tracked\n",
      checked_, Answers().size(), signatures_.size());
}

}  // namespace
}  // namespace backends::reliability
