// Listings that cannot loop (issue 20): a ScriptedServer on 127.0.0.1 plays
// an S3 server whose ListObjectsV2 pages repeat a continuation token, do
// not advance, or list a key out of order. Every listing path (list, keys,
// size, clear, items, and the CLI's ls) must stop with kDataLoss naming the
// server's fault instead of walking the pages for ever; a sane server with
// empty pages in between still lists everything.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "backends/s3.h"
#include "s3/list_objects.h"
#include "s3_test_env.h"
#include "scripted_server.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Page {
  std::vector<std::string> keys;
  std::string next_token;  // empty: the last page
};

// A server whose page for a continuation token ("" for the first request)
// is `pages(token)`.
class ListingServer {
 public:
  explicit ListingServer(std::function<Page(const std::string&)> pages)
      : pages_(std::move(pages)),
        server_(
            [this](int fd, const std::string& head, const std::atomic<bool>&) {
              return SendAll(fd, Answer(head));
            }) {}

  S3Options Options() const {
    S3Options options;
    options.bucket = "bucket";
    options.region = "us-east-1";
    options.endpoint = server_.endpoint();
    options.addressing = S3Addressing::kPathStyle;
    options.anonymous = true;
    options.check_bucket = false;
    return options;
  }
  std::string endpoint() const { return server_.endpoint(); }
  int requests() const { return server_.requests(); }

 private:
  std::string Answer(const std::string& head) const {
    const Page page = pages_(QueryParam(head, "continuation-token"));
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult>"
        "<Name>bucket</Name><EncodingType>url</EncodingType><IsTruncated>" +
        std::string(page.next_token.empty() ? "false" : "true") +
        "</IsTruncated>";
    if (!page.next_token.empty()) {
      xml += "<NextContinuationToken>" + page.next_token +
             "</NextContinuationToken>";
    }
    for (const auto& key : page.keys) {
      xml += "<Contents><Key>" + key + "</Key><Size>1</Size></Contents>";
    }
    xml += "</ListBucketResult>";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
           "Content-Length: " +
           std::to_string(xml.size()) + "\r\n\r\n" + xml;
  }

  const std::function<Page(const std::string&)> pages_;
  ScriptedServer server_;
};

struct LoopCase {
  std::string name;
  std::function<Page(const std::string&)> pages;
  std::string fault;  // what the message must say
};

void PrintTo(const LoopCase& c, std::ostream* os) { *os << c.name; }

class ListingLoopTest : public ::testing::TestWithParam<LoopCase> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(server_.Options()));
  }
  void ExpectServerFault(const Status& status) {
    EXPECT_EQ(status.code(), ErrorCode::kDataLoss) << status;
    EXPECT_THAT(
        status.message(),
        AllOf(HasSubstr("the S3 server's listing is broken"),
              HasSubstr("a server fault"), HasSubstr(GetParam().fault)));
  }

  ListingServer server_{GetParam().pages};
  std::unique_ptr<S3Backend> store_;
};

TEST_P(ListingLoopTest, EveryListingPathStopsWithDataLoss) {
  ExpectServerFault(store_->list("").status());
  ExpectServerFault(store_->keys().status());
  ExpectServerFault(store_->size().status());
  ExpectServerFault(store_->clear());
  ExpectServerFault(store_->items().status());
  ExpectServerFault(store_->list_page("", "", 1'000'000).status());
  auto first = store_->begin();  // iteration pages: the fault ends it
  ASSERT_NE(first, store_->end());
  for (; first != store_->end() && first->ok(); ++first) {
  }
  ASSERT_NE(first, store_->end());
  ExpectServerFault(first->status());
  // Bounded: at most the empty-page limit, plus a few pages, per listing.
  EXPECT_LE(server_.requests(), 7 * (s3::kMaxEmptyListPages + 3));
}

TEST_P(ListingLoopTest, CliLsExitsWithTheFault) {
#ifndef BACKENDS_CLI_PATH
  GTEST_SKIP() << "built without the backends tool";
#else
  const std::string url = "s3://bucket/?endpoint=" + server_.endpoint() +
                          "&region=us-east-1&check_bucket=0&anonymous=1";
  CommandResult result = RunCommand(ShellQuote(BACKENDS_CLI_PATH) + " ls " +
                                    ShellQuote(url) + " 2>&1 >/dev/null");
  EXPECT_EQ(result.status, 3) << result.output;
  EXPECT_THAT(result.output, HasSubstr(GetParam().fault));
#endif
}

// Keys "k0001", "k0002", ... for the pages below.
std::string Key(int n) {
  std::string digits = std::to_string(n);
  return "k" + std::string(4 - digits.size(), '0') + digits;
}

INSTANTIATE_TEST_SUITE_P(
    Broken, ListingLoopTest,
    ::testing::Values(
        // The second page names itself as the next one.
        LoopCase{"RepeatedToken",
                 [](const std::string& token) {
                   if (token.empty()) return Page{{Key(1), Key(2)}, "t1"};
                   return Page{{}, "t1"};
                 },
                 "repeats the continuation token \"t1\""},
        // Tokens that cycle through two pages.
        LoopCase{"TokenCycle",
                 [](const std::string& token) {
                   if (token.empty()) return Page{{Key(1)}, "t1"};
                   return Page{{}, token == "t1" ? "t2" : "t1"};
                 },
                 "repeats the continuation token"},
        // Every page lists the first page's keys again, with a new token.
        LoopCase{"PageDoesNotAdvance",
                 [](const std::string& token) {
                   return Page{{Key(1), Key(2)}, token + "x"};
                 },
                 "lists \"k0001\" after \"k0002\", out of order"},
        // The second page goes back before the first page's last key.
        LoopCase{"KeyOutOfOrder",
                 [](const std::string& token) {
                   if (token.empty()) return Page{{Key(1), Key(5)}, "t1"};
                   return Page{{Key(3)}, ""};
                 },
                 "lists \"k0003\" after \"k0005\", out of order"},
        // Empty truncated pages with fresh tokens, without end.
        LoopCase{"EmptyPagesForEver",
                 [](const std::string& token) {
                   const int n = token.empty() ? 0 : std::stoi(token);
                   return Page{{}, std::to_string(n + 1)};
                 },
                 "does not advance"}),
    [](const auto& test) { return test.param.name; });

// Empty truncated pages happen on real servers (S3 past many delete
// markers): short runs of them are fine.
TEST(ListingTest, EmptyPagesBetweenKeysAreFine) {
  ListingServer server([](const std::string& token) {
    if (token.empty()) return Page{{Key(1)}, "a"};
    if (token == "a") return Page{{}, "b"};
    if (token == "b") return Page{{}, "c"};
    return Page{{Key(2), Key(3)}, ""};
  });
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(server.Options()));
  EXPECT_THAT(store->list(""),
              IsOkAndHolds(ElementsAre(Key(1), Key(2), Key(3))));
  EXPECT_EQ(server.requests(), 4);
}

// The guard on its own: the same rules page by page.
TEST(ListingTest, GuardRules) {
  s3::ListingGuard guard("list \"\"");
  BACKENDS_EXPECT_OK(guard.Check({.objects = {{.key = "a"}, {.key = "b"}},
                                  .truncated = true,
                                  .next_token = "1"}));
  BACKENDS_EXPECT_OK(
      guard.Check({.objects = {}, .truncated = true, .next_token = "2"}));
  EXPECT_THAT(guard.Check({.objects = {{.key = "b"}}}),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("out of order")));
  s3::ListingGuard within("list \"\"");
  EXPECT_THAT(within.Check({.objects = {{.key = "b"}, {.key = "a"}}}),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("page 1")));
  s3::ListingGuard empty("list \"\"");
  for (int i = 1; i < s3::kMaxEmptyListPages; ++i) {
    ASSERT_TRUE(
        empty.Check({.truncated = true, .next_token = std::to_string(i)}).ok());
  }
  EXPECT_THAT(empty.Check({.truncated = true, .next_token = "last"}),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("does not advance")));
}

}  // namespace
}  // namespace backends::testing
