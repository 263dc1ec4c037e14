// The prefix of an S3 store is a folder, on a real S3 server: key K is the
// object PREFIX/K whether or not the prefix ends with "/", an empty prefix
// is the bucket's root, listings strip PREFIX/, and url() reopens the same
// folder. Objects are checked through a store on the bucket's root.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/open.h"
#include "backends/s3.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

class S3PrefixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    S3Options root = TestOptions("prefix");
    folder_ = root.prefix;  // "prefix-PID-N-R/": this test's own folder
    root.prefix.clear();
    ASSERT_OK_AND_ASSIGN(root_, S3Backend::Open(root));
  }
  void TearDown() override {
    if (!root_) return;
    auto keys = root_->list(folder_);
    ASSERT_THAT(keys, IsOk());
    for (const auto& key : *keys) BACKENDS_EXPECT_OK(root_->remove(key));
  }

  std::unique_ptr<S3Backend> Open(std::string prefix) const {
    S3Options options = TestOptions();
    options.prefix = std::move(prefix);
    auto store = S3Backend::Open(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }
  // The bytes of object `object_key`, read through the bucket's root.
  Result<std::optional<std::string>> Object(const std::string& object_key) {
    return root_->load(object_key);
  }

  std::string folder_;
  std::unique_ptr<S3Backend> root_;
};

TEST_F(S3PrefixTest, WithOrWithoutTrailingSlashTheSameFolder) {
  auto bare = Open(folder_ + "site");
  auto slashed = Open(folder_ + "site/");
  ASSERT_TRUE(bare && slashed);
  BACKENDS_ASSERT_OK(bare->dump("index.html", "<p>"));
  EXPECT_THAT(Object(folder_ + "site/index.html"),
              IsOkAndHolds(Optional(std::string("<p>"))));
  EXPECT_THAT(slashed->load("index.html"),
              IsOkAndHolds(Optional(std::string("<p>"))));
  // A sibling whose name only starts like the folder is not in it.
  BACKENDS_ASSERT_OK(root_->dump(folder_ + "sitemap.xml", "<x/>"));
  BACKENDS_ASSERT_OK(root_->dump(folder_ + "siteindex.html", "old"));
  EXPECT_THAT(bare->keys(), IsOkAndHolds(ElementsAre("index.html")));
  EXPECT_THAT(slashed->list("ind"), IsOkAndHolds(ElementsAre("index.html")));
  EXPECT_THAT(bare->size(), IsOkAndHolds(1u));
  EXPECT_EQ(bare->options().prefix, folder_ + "site/");
  EXPECT_EQ(bare->url(), slashed->url());
  EXPECT_THAT(bare->url(), HasSubstr("/site/?"));
  EXPECT_EQ(bare->public_url("index.html"),
            root_->public_url(folder_ + "site/index.html"));
  // clear() empties the folder only.
  BACKENDS_ASSERT_OK(bare->clear());
  EXPECT_THAT(Object(folder_ + "sitemap.xml"),
              IsOkAndHolds(Optional(std::string("<x/>"))));
  EXPECT_THAT(bare->keys(), IsOkAndHolds(ElementsAre()));
}

TEST_F(S3PrefixTest, UrlReopensTheSameFolder) {
  auto store = Open(folder_ + "a");
  ASSERT_TRUE(store);
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(store->url()));
  EXPECT_THAT(reopened->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  EXPECT_THAT(reopened->keys(), IsOkAndHolds(ElementsAre("k")));
  EXPECT_EQ(reopened->url(), store->url());
  // The URL's path, with or without its trailing "/", names the folder.
  std::string url = store->url();
  url.erase(url.find("/?"), 1);
  ASSERT_OK_AND_ASSIGN(auto bare, OpenBackend(url));
  EXPECT_THAT(bare->load("k"), IsOkAndHolds(Optional(std::string("v"))));
}

TEST_F(S3PrefixTest, NestedPrefix) {
  auto nested = Open(folder_ + "a/b/c");
  ASSERT_TRUE(nested);
  BACKENDS_ASSERT_OK(nested->dump("d/e", "deep"));
  EXPECT_THAT(Object(folder_ + "a/b/c/d/e"),
              IsOkAndHolds(Optional(std::string("deep"))));
  auto parent = Open(folder_ + "a/b");
  ASSERT_TRUE(parent);
  EXPECT_THAT(parent->keys(), IsOkAndHolds(ElementsAre("c/d/e")));
  EXPECT_THAT(parent->load("c/d/e"),
              IsOkAndHolds(Optional(std::string("deep"))));
}

TEST_F(S3PrefixTest, EmptyPrefixIsTheBucketsRoot) {
  for (const char* root : {"", "/"}) {
    auto store = Open(root);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->options().prefix, "");
    BACKENDS_ASSERT_OK(store->dump(folder_ + "top", "t"));
    EXPECT_THAT(Object(folder_ + "top"),
                IsOkAndHolds(Optional(std::string("t"))));
    EXPECT_THAT(store->list(folder_),
                IsOkAndHolds(ElementsAre(folder_ + "top")));
    EXPECT_THAT(store->url(), HasSubstr("s3://" + EnvOr("S3_BUCKET") + "/?"));
  }
  auto folder = Open(folder_);
  ASSERT_TRUE(folder);
  EXPECT_THAT(folder->load("top"), IsOkAndHolds(Optional(std::string("t"))));
}

TEST_F(S3PrefixTest, AKeyThatStartsWithASlash) {
  auto store = Open(folder_ + "p");
  ASSERT_TRUE(store);
  BACKENDS_ASSERT_OK(store->dump("/lead", "1"));
  BACKENDS_ASSERT_OK(store->dump("lead", "2"));
  // Two keys, two objects: one "/" is the separator, the key keeps its own.
  EXPECT_THAT(Object(folder_ + "p//lead"),
              IsOkAndHolds(Optional(std::string("1"))));
  EXPECT_THAT(Object(folder_ + "p/lead"),
              IsOkAndHolds(Optional(std::string("2"))));
  EXPECT_THAT(store->keys(), IsOkAndHolds(ElementsAre("/lead", "lead")));
  EXPECT_THAT(store->load("/lead"), IsOkAndHolds(Optional(std::string("1"))));
  EXPECT_THAT(store->remove("/lead"), IsOkAndHolds(true));
  EXPECT_THAT(store->keys(), IsOkAndHolds(ElementsAre("lead")));
}

}  // namespace
}  // namespace backends::testing
