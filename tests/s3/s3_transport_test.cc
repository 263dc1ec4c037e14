// The HTTP layer without S3: the curl transport against a small HTTP server
// on 127.0.0.1 that records what arrives (path as sent, headers, body,
// connections), and the S3 client's request building and region correction
// over a recording transport.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "loopback.h"
#include "s3/curl_transport.h"
#include "s3/s3_client.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"

namespace backends::s3 {
namespace {

using ::backends::testing::IsOk;
using ::backends::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Answers every request with 200 and body "ok" on kept-alive connections;
// with `silent`, accepts and never answers.
class RecordingServer {
 public:
  explicit RecordingServer(bool silent = false) : silent_(silent) {
    listener_ = ::backends::testing::ListenOnLoopback(&port_, 16);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~RecordingServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    for (auto& t : connections_) t.join();
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int connections() const { return accepted_.load(); }
  std::vector<std::string> requests() {
    std::scoped_lock lock(mutex_);
    return requests_;
  }

 private:
  void Accept() {
    for (;;) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
      auto end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        auto at = buffer.find("Content-Length: ");
        if (at != std::string::npos && at < end) {
          length = std::stoul(buffer.substr(at + 16));
        }
        if (buffer.size() >= end + 4 + length) {
          {
            std::scoped_lock lock(mutex_);
            requests_.push_back(buffer.substr(0, end + 4 + length));
          }
          const bool head = buffer.starts_with("HEAD ");
          buffer.erase(0, end + 4 + length);
          if (silent_) continue;
          std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
          if (!head) answer += "ok";
          if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
          continue;
        }
      }
      auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }

  const bool silent_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // touched by the acceptor only
  std::mutex mutex_;
  std::vector<std::string> requests_;  // guarded by mutex_
};

TEST(CurlTransportTest, SendsThePathAsIsAndKeepsTheConnection) {
  RecordingServer server;
  auto transport = NewCurlTransport({});
  for (const char* path :
       {"/b/x/../y", "/b/./z//w", "/b/%2E%2E/q?list-type=2"}) {
    ASSERT_OK_AND_ASSIGN(
        auto response,
        transport->Send({.method = "GET", .url = server.url(path)}, "load"));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "ok");
    ASSERT_NE(response.header("content-length"), nullptr);
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(requests[0], ::testing::StartsWith("GET /b/x/../y HTTP/1.1\r\n"));
  EXPECT_THAT(requests[1], ::testing::StartsWith("GET /b/./z//w HTTP/1.1\r\n"));
  EXPECT_THAT(requests[2], ::testing::StartsWith(
                               "GET /b/%2E%2E/q?list-type=2 HTTP/1.1\r\n"));
  EXPECT_EQ(server.connections(), 1) << "keep-alive: one connection";
}

TEST(CurlTransportTest, PutSendsTheBodyWithoutExpectContinue) {
  RecordingServer server;
  auto transport = NewCurlTransport({});
  std::string body(2 << 20, 'b');
  body[12345] = '\0';
  ASSERT_OK_AND_ASSIGN(
      auto response, transport->Send({.method = "PUT",
                                      .url = server.url("/b/k"),
                                      .headers = {{"Content-Type", "text/css"},
                                                  {"x-amz-meta-empty", ""}},
                                      .body = body},
                                     "dump"));
  EXPECT_EQ(response.status, 200);
  ASSERT_OK_AND_ASSIGN(
      auto head, transport->Send({.method = "HEAD", .url = server.url("/b/k")},
                                 "contains"));
  EXPECT_EQ(head.status, 200);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::string& put = requests[0];
  EXPECT_THAT(put, ::testing::StartsWith("PUT /b/k HTTP/1.1\r\n"));
  EXPECT_THAT(put, Not(HasSubstr("Expect:")));
  EXPECT_THAT(put, HasSubstr("Content-Length: 2097152\r\n"));
  EXPECT_THAT(put, HasSubstr("Content-Type: text/css\r\n"));
  EXPECT_THAT(put, HasSubstr("x-amz-meta-empty:"));
  EXPECT_EQ(put.substr(put.find("\r\n\r\n") + 4), body);
  EXPECT_THAT(requests[1], ::testing::StartsWith("HEAD /b/k HTTP/1.1\r\n"));
}

TEST(CurlTransportTest, TimeoutIsDeadlineExceededAndRefusalUnavailable) {
  RecordingServer silent(/*silent=*/true);
  auto transport =
      NewCurlTransport({.request_timeout = std::chrono::milliseconds(300)});
  EXPECT_THAT(transport->Send({.method = "GET", .url = silent.url("/b/k")},
                              "load \"k\""),
              StatusIs(ErrorCode::kDeadlineExceeded, HasSubstr("load \"k\"")));
  EXPECT_THAT(transport->Send({.method = "GET", .url = "http://127.0.0.1:9/"},
                              "load \"k\""),
              StatusIs(ErrorCode::kUnavailable));
}

TEST(CurlTransportTest, ConcurrentRequestsUseSeparateHandles) {
  RecordingServer server;
  auto transport = NewCurlTransport({.max_idle_handles = 4});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = transport->Send({.method = "GET",
                                  .url = server.url("/t" + std::to_string(t) +
                                                    "/" + std::to_string(i))},
                                 "load");
        if (!r.ok() || r->status != 200 || r->body != "ok") ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.requests().size(), 100u);
  EXPECT_LE(server.connections(), 8) << "connections are reused";
}

// Records requests and plays canned answers.
class ScriptedTransport final : public HttpTransport {
 public:
  explicit ScriptedTransport(std::vector<HttpResponse> answers)
      : answers_(std::move(answers)) {}
  Result<HttpResponse> Send(const HttpRequest& request,
                            std::string_view) override {
    sent.push_back(request);
    HttpResponse answer = answers_.at(next_++);
    return answer;
  }
  std::vector<HttpRequest> sent;

 private:
  std::vector<HttpResponse> answers_;
  std::size_t next_ = 0;
};

std::string Header(const HttpRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

TEST(S3ClientTest, SignsEncodesAndCorrectsTheRegionOnce) {
  auto transport =
      std::make_unique<ScriptedTransport>(std::vector<HttpResponse>{
          {.status = 301, .headers = {{"x-amz-bucket-region", "eu-west-1"}}},
          {.status = 200}});
  auto* recorded = transport.get();
  Credentials credentials{
      .access_key_id = "AKIAIOSFODNN7EXAMPLE",
      .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
  S3Client client(
      {.scheme = "https",
       .authority = "s3.us-east-1.amazonaws.com",
       .bucket = "bkt",
       .region = "us-east-1",
       .path_style = false,
       .aws = true},
      [&] { return Result<Credentials>(credentials); }, std::move(transport),
      std::make_shared<backends::testing::FakeClock>());
  ASSERT_OK_AND_ASSIGN(
      auto response,
      client.Send({.method = "PUT", .key = "a b/c+d", .body = "v"}, "dump"));
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(recorded->sent.size(), 2u);
  EXPECT_EQ(recorded->sent[0].url,
            "https://bkt.s3.us-east-1.amazonaws.com/a%20b/c%2Bd");
  EXPECT_THAT(Header(recorded->sent[0], "Authorization"),
              HasSubstr("/us-east-1/s3/aws4_request"));
  EXPECT_EQ(recorded->sent[1].url,
            "https://bkt.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd");
  EXPECT_THAT(Header(recorded->sent[1], "Authorization"),
              HasSubstr("/eu-west-1/s3/aws4_request"));
  EXPECT_EQ(Header(recorded->sent[1], "x-amz-content-sha256"), Sha256Hex("v"));
  EXPECT_EQ(client.endpoint().region, "eu-west-1");
  EXPECT_THAT(Header(recorded->sent[1], "Authorization"),
              Not(HasSubstr(credentials.secret_access_key)));
}

// Answers 403 with the request's Authorization and token echoed back.
class EchoingTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request,
                            std::string_view) override {
    for (const auto& [name, value] : request.headers) {
      if (name == "Authorization") authorization = value;
      if (name == "X-Amz-Security-Token") token = value;
    }
    return HttpResponse{.status = 403,
                        .headers = {{"x-echo", authorization}},
                        .body = "<Error><Code>AccessDenied</Code><Message>" +
                                authorization + " " + token +
                                "</Message></Error>"};
  }
  std::string authorization;
  std::string token;
};

TEST(S3ClientTest, ErrorAnswersAreScrubbedOfTheRequestsSecrets) {
  auto transport = std::make_unique<EchoingTransport>();
  auto* echo = transport.get();
  Credentials credentials{
      .access_key_id = "AKIAIOSFODNN7EXAMPLE",
      .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      .session_token = "SessionTokenThatMustNotBePrinted"};
  S3Client client(
      {.scheme = "http",
       .authority = "127.0.0.1:1",
       .bucket = "bkt",
       .region = "us-east-1"},
      [&] { return Result<Credentials>(credentials); }, std::move(transport),
      std::make_shared<backends::testing::FakeClock>());
  ASSERT_OK_AND_ASSIGN(auto response,
                       client.Send({.method = "GET", .key = "k"}, "load"));
  ASSERT_EQ(echo->token, credentials.session_token);
  const std::string signature =
      echo->authorization.substr(echo->authorization.rfind('=') + 1);
  ASSERT_EQ(signature.size(), 64u);
  EXPECT_THAT(response.body, Not(HasSubstr(signature)));
  EXPECT_THAT(response.body, Not(HasSubstr(credentials.session_token)));
  EXPECT_THAT(response.body, HasSubstr("[redacted]"));
  EXPECT_THAT(*response.header("x-echo"), Not(HasSubstr(signature)));
}

TEST(S3ClientTest, AnonymousRequestsAreUnsignedAndCannotPresign) {
  auto transport = std::make_unique<ScriptedTransport>(
      std::vector<HttpResponse>{{.status = 200}});
  auto* recorded = transport.get();
  S3Client client(
      {.scheme = "http",
       .authority = "127.0.0.1:1",
       .bucket = "bkt",
       .region = "us-east-1"},
      [] { return Result<Credentials>(Credentials{}); }, std::move(transport),
      std::make_shared<backends::testing::FakeClock>());
  ASSERT_THAT(client.Send({.method = "GET", .key = "x/../y"}, "load"), IsOk());
  EXPECT_EQ(recorded->sent[0].url, "http://127.0.0.1:1/bkt/x/../y");
  EXPECT_EQ(Header(recorded->sent[0], "Authorization"), "<absent>");
  EXPECT_THAT(client.Presign("GET", "k", std::chrono::seconds(60), "presign"),
              StatusIs(ErrorCode::kUnauthenticated));
}

}  // namespace
}  // namespace backends::s3
