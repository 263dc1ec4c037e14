// The `backends` tool, driven as a process: every verb on filesystem and
// memory stores, exit codes, binary stdin/stdout, unicode and invalid keys,
// formats, caches, and that bad input never loses data.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "backends/open.h"
#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

// Every byte value, NULs included, several times over.
std::string AllBytes() {
  std::string bytes;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  }
  bytes += std::string(3, '\0');
  return bytes;
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class CliTest : public ::testing::Test {
 protected:
  fs::path Root() const { return dir_.path() / "store"; }
  std::string Url(std::string_view query = "") const {
    return "file://" + Root().string() + std::string(query);
  }
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli(dir_.path(), std::move(args), std::move(input));
  }
  // Stores through the tool and checks that it worked.
  void Put(const std::string& key, const std::string& value) {
    CliResult r = Run({"put", Url(), key, "-"}, value);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  ScopedTempDir dir_;
};

TEST_F(CliTest, VersionPrintsProjectVersion) {
  CliResult r = Run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("backends ") + BACKENDS_CLI_VERSION + "\n");
}

TEST_F(CliTest, HelpListsVerbsUrlFormsAndExamples) {
  CliResult r = Run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* verb : {"put", "get", "rm", "mv", "ls", "cp", "url", "presign",
                           "make-public", "make-private", "cache"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("\n  ") + verb + " ")) << verb;
  }
  EXPECT_THAT(r.out, AllOf(HasSubstr("memory://"), HasSubstr("file://"),
                           HasSubstr("s3://"), HasSubstr("?format="),
                           HasSubstr("?cache="), HasSubstr("Examples:")));
}

TEST_F(CliTest, EveryVerbHasHelp) {
  for (std::vector<std::string> verb : {std::vector<std::string>{"put"},
                                        {"get"},
                                        {"rm"},
                                        {"mv"},
                                        {"ls"},
                                        {"cp"},
                                        {"url"},
                                        {"presign"},
                                        {"make-public"},
                                        {"make-private"},
                                        {"cache"},
                                        {"cache", "prune"}}) {
    std::string name = "backends";
    for (const auto& word : verb) name += " " + word;
    verb.push_back("--help");
    CliResult r = Run(verb);
    EXPECT_EQ(r.exit_code, 0) << name;
    EXPECT_THAT(r.out, HasSubstr("Usage: " + name)) << name;
    if (verb.size() == 2 && verb[0] == "cache") continue;  // A verb group.
    // The URL parameters it reads, per scheme, and an example of its own.
    EXPECT_THAT(r.out, AllOf(HasSubstr("URL parameters it honours:"),
                             HasSubstr("file://"), HasSubstr("s3://"),
                             HasSubstr("Example: " + name + " ")))
        << r.out;
  }
}

TEST_F(CliTest, HelpNamesTheParametersThatMatterToTheVerb) {
  CliResult put = Run({"put", "--help"});
  EXPECT_THAT(put.out, AllOf(HasSubstr("durable=1"), HasSubstr("content_type"),
                             HasSubstr("format=raw|text|json"),
                             HasSubstr("cache=json|text")));
  CliResult get = Run({"get", "--help"});
  EXPECT_THAT(get.out,
              AllOf(Not(HasSubstr("durable")), Not(HasSubstr("content_type")),
                    HasSubstr("endpoint"), HasSubstr("format=")));
  CliResult presign = Run({"presign", "--help"});
  EXPECT_THAT(presign.out,
              AllOf(HasSubstr("region"), Not(HasSubstr("format="))));
}

TEST_F(CliTest, UsageErrorsExit2WithUsage) {
  for (std::vector<std::string> args : {
           std::vector<std::string>{},                    // no verb
           {"frobnicate"},                                // unknown verb
           {"get"},                                       // missing URL
           {"get", Url()},                                // missing KEY
           {"ls", Url(), "--bogus"},                      // unknown option
           {"cp", Url(), Url(), "--jobs", "0"},           // out of range
           {"presign", Url(), "k", "--expires", "soon"},  // not a number
           {"put", Url(), "k", "v", "-f", "file"},        // VALUE and -f
           {"cache"},                                     // no sub-verb
       }) {
    CliResult r = Run(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << r.err;
    EXPECT_THAT(r.err, HasSubstr("Usage: backends")) << shown;
    EXPECT_THAT(r.out, IsEmpty()) << shown;
  }
}

TEST_F(CliTest, BadToolParametersAreUsageErrorsAndTouchNothing) {
  for (const char* query :
       {"?format=xml", "?cache=yaml", "?timeout=5", "?cache=json&timeout=-1"}) {
    CliResult r = Run({"put", Url(query), "k", "v"});
    EXPECT_EQ(r.exit_code, 2) << query;
    EXPECT_THAT(r.err, HasSubstr("Usage: backends put")) << query;
  }
  EXPECT_FALSE(fs::exists(Root()));
}

TEST_F(CliTest, NoErrorShowsTheUrlsPassword) {
  // A URL that does not parse, a bad layer parameter, an unknown store
  // parameter, an unknown scheme, a server that does not answer.
  for (const char* url :
       {"redis://u:s3cret@127.0.0.1:1/%zz", "redis://:s3cret@127.0.0.1:1?format=xml",
        "redis://:s3cret@127.0.0.1:1?bogus=1", "rediz://u:s3cret@127.0.0.1:1",
        "redis://u:s3cret@127.0.0.1:1?cache=json&timeout=x",
        "redis://u:s3cret@127.0.0.1:1"}) {
    for (const char* verb : {"ls", "get"}) {
      CliResult r = Run({verb, url, "k"});
      EXPECT_NE(r.exit_code, 0) << url;
      EXPECT_THAT(r.err, Not(HasSubstr("s3cret"))) << r.err;
      EXPECT_THAT(r.out, Not(HasSubstr("s3cret"))) << r.out;
    }
  }
}

TEST_F(CliTest, FrontParameterReadsThroughAFasterStore) {
  const fs::path front = Root().parent_path() / "front";
  fs::create_directories(front);
  const std::string url =
      Url("?front=" + PercentEncode("file://" + front.string()) + "&max_age=60");
  ASSERT_EQ(Run({"put", url, "k", "-"}, "v1").exit_code, 0);
  EXPECT_EQ(ReadFile(Root() / "k"), "v1");
  EXPECT_EQ(ReadFile(front / "k"), "v1");
  // A fresh front copy answers without the back.
  WriteFile(Root() / "k", "v2");
  CliResult get = Run({"get", url, "k"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "v1");
  EXPECT_NE(Run({"ls", Url("?max_age=60")}).exit_code, 0);
}

TEST_F(CliTest, MvRenamesAndKeepCopiesWithinTheStore) {
  Put("a", "one");
  CliResult mv = Run({"mv", Url(), "a", "sub/b"});
  ASSERT_EQ(mv.exit_code, 0) << mv.err;
  EXPECT_FALSE(fs::exists(Root() / "a"));
  EXPECT_EQ(ReadFile(Root() / "sub" / "b"), "one");
  CliResult keep = Run({"mv", "--keep", Url(), "sub/b", "c"});
  ASSERT_EQ(keep.exit_code, 0) << keep.err;
  EXPECT_EQ(ReadFile(Root() / "sub" / "b"), "one");
  EXPECT_EQ(ReadFile(Root() / "c"), "one");
  CliResult missing = Run({"mv", Url(), "nothing", "d"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("\"nothing\": no such key"));
  EXPECT_FALSE(fs::exists(Root() / "d"));
}

TEST_F(CliTest, ConditionalPutWritesOnlyWhenTheConditionHolds) {
  CliResult first = Run({"put", "--if-absent", Url(), "k", "v1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string version = first.out.substr(0, first.out.find('\n'));
  EXPECT_FALSE(version.empty());
  CliResult again = Run({"put", "--if-absent", Url(), "k", "v2"});
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_THAT(again.err, HasSubstr("precondition failed"));
  EXPECT_EQ(ReadFile(Root() / "k"), "v1");
  CliResult stale = Run({"put", "--if-version", "not-it", Url(), "k", "v3"},
                        "");
  EXPECT_EQ(stale.exit_code, 3);
  EXPECT_EQ(ReadFile(Root() / "k"), "v1");
  CliResult swap = Run({"put", "--if-version", version, Url(), "k", "-"}, "v4");
  ASSERT_EQ(swap.exit_code, 0) << swap.err;
  EXPECT_EQ(ReadFile(Root() / "k"), "v4");
  EXPECT_NE(swap.out, first.out);  // a new version
  CliResult both =
      Run({"put", "--if-absent", "--if-version", version, Url(), "k", "v5"});
  EXPECT_EQ(both.exit_code, 2);
}

TEST_F(CliTest, PutThenGetRoundTripsWithoutAddingANewline) {
  CliResult put = Run({"put", Url(), "greeting", "hello"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_THAT(put.out, IsEmpty());
  EXPECT_EQ(ReadFile(Root() / "greeting"), "hello");
  CliResult get = Run({"get", Url(), "greeting"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "hello");
  EXPECT_THAT(get.err, IsEmpty());
}

TEST_F(CliTest, BinaryValuesThroughStdinAndStdout) {
  const std::string bytes = AllBytes();
  // VALUE absent and VALUE "-" both read stdin.
  CliResult absent = Run({"put", Url(), "bin/absent"}, bytes);
  ASSERT_EQ(absent.exit_code, 0) << absent.err;
  CliResult dash = Run({"put", Url(), "bin/dash", "-"}, bytes);
  ASSERT_EQ(dash.exit_code, 0) << dash.err;
  EXPECT_EQ(ReadFile(Root() / "bin/absent"), bytes);
  EXPECT_EQ(ReadFile(Root() / "bin/dash"), bytes);
  for (const char* key : {"bin/absent", "bin/dash"}) {
    CliResult get = Run({"get", Url(), key});
    EXPECT_EQ(get.exit_code, 0);
    EXPECT_EQ(get.out, bytes) << key;
  }
}

TEST_F(CliTest, EmptyValueIsStoredAndReturned) {
  ASSERT_EQ(Run({"put", Url(), "empty"}, "").exit_code, 0);
  EXPECT_TRUE(fs::exists(Root() / "empty"));
  CliResult get = Run({"get", Url(), "empty"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_THAT(get.out, IsEmpty());
}

TEST_F(CliTest, PutFromFileAndGetToFile) {
  const std::string bytes = AllBytes() + std::string(3 << 20, 'x');
  WriteFile(dir_.path() / "in.bin", bytes);
  CliResult put = Run({"put", Url(), "big", "-f", "in.bin"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(ReadFile(Root() / "big"), bytes);

  WriteFile(dir_.path() / "out.bin", "old contents");
  CliResult get = Run({"get", Url(), "big", "-o", "out.bin"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, IsEmpty());
  EXPECT_THAT(get.err, IsEmpty());  // Not a terminal: no progress bar.
  EXPECT_EQ(ReadFile(dir_.path() / "out.bin"), bytes);
  // No temporary file left next to it.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("in.bin", "out.bin", "store"));
}

TEST_F(CliTest, GetOutputKeepsTheModeOfAnExistingFile) {
  Put("k", "value");
  WriteFile(dir_.path() / "out", "old");
  ASSERT_EQ(::chmod((dir_.path() / "out").c_str(), 0640), 0);
  ASSERT_EQ(Run({"get", Url(), "k", "-o", "out"}).exit_code, 0);
  struct stat st;
  ASSERT_EQ(::stat((dir_.path() / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(ReadFile(dir_.path() / "out"), "value");
}

TEST_F(CliTest, GetMissingKeyExits1AndLeavesTheOutputFileAlone) {
  Put("present", "x");
  CliResult r = Run({"get", Url(), "absent"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_EQ(r.err, "backends: get \"absent\": no such key\n");

  WriteFile(dir_.path() / "keep.txt", "precious");
  r = Run({"get", Url(), "absent", "-o", "keep.txt"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(dir_.path() / "keep.txt"), "precious");
}

TEST_F(CliTest, GetToUnwritableDestinationExits3AndKeepsTheValue) {
  Put("k", "value");
  CliResult r = Run({"get", Url(), "k", "-o", "no/such/folder/out"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, AllOf(StartsWith("backends: get \"k\": "),
                           HasSubstr("no/such/folder/out"),
                           HasSubstr("No such file or directory")));
  fs::create_directories(dir_.path() / "adir");
  r = Run({"get", Url(), "k", "-o", "adir"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(fs::is_directory(dir_.path() / "adir"));
  EXPECT_EQ(ReadFile(Root() / "k"), "value");
}

TEST_F(CliTest, GetThatFailsToDecodeNeverClobbersTheOutputFile) {
  Put("notjson", "{ broken");
  WriteFile(dir_.path() / "out.json", "[1]");
  CliResult r = Run({"get", Url("?format=json"), "notjson", "-o", "out.json"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\"notjson\""));
  EXPECT_EQ(ReadFile(dir_.path() / "out.json"), "[1]");
}

TEST_F(CliTest, PutFromMissingFileExits3AndTouchesNothing) {
  CliResult r = Run({"put", Url(), "k", "-f", "missing.bin"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(CountLines(r.err), 1);
  EXPECT_THAT(r.err, AllOf(HasSubstr("put \"k\""), HasSubstr("missing.bin"),
                           HasSubstr("No such file or directory")));
  EXPECT_FALSE(fs::exists(Root()));  // Not even the folder was made.

  Put("k", "old");
  r = Run({"put", Url(), "k", "-f", "missing.bin"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(ReadFile(Root() / "k"), "old");
}

TEST_F(CliTest, InvalidKeysExit3NameTheKeyAndLoseNothing) {
  Put("safe", "kept");
  WriteFile(dir_.path() / "outside", "outside");
  const std::vector<std::string> bad_keys = {"",
                                             "../outside",
                                             "/etc/passwd",
                                             "a//b",
                                             "a/./b",
                                             "x/..",
                                             "tab\there",
                                             "\xff\xfe",
                                             std::string(2000, 'k'),
                                             ".backends-tmp.0000000000000000"};
  for (const std::string& key : bad_keys) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"put", Url(), key, "evil"},
          {"get", Url(), key},
          {"rm", Url(), key},
          {"url", Url(), key}}) {
      CliResult r = Run(args);
      EXPECT_EQ(r.exit_code, 3) << args[0] << " " << key;
      EXPECT_EQ(CountLines(r.err), 1) << r.err;
      EXPECT_THAT(r.err, HasSubstr("invalid key")) << args[0] << " " << key;
      EXPECT_THAT(r.out, IsEmpty());
    }
  }
  EXPECT_EQ(ReadFile(dir_.path() / "outside"), "outside");
  EXPECT_EQ(ReadFile(Root() / "safe"), "kept");
  CliResult ls = Run({"ls", Url()});
  EXPECT_EQ(ls.out, "safe\n");
}

TEST_F(CliTest, UnicodeKeys) {
  const std::vector<std::string> keys = {"données/été", "☃/snow man", "emoji/🎉",
                                         "日本語"};
  for (const auto& key : keys) Put(key, "value of " + key);
  for (const auto& key : keys) {
    CliResult get = Run({"get", Url(), key});
    EXPECT_EQ(get.exit_code, 0) << key;
    EXPECT_EQ(get.out, "value of " + key);
    EXPECT_EQ(ReadFile(Root() / key), "value of " + key);
    CliResult url = Run({"url", Url(), key});
    EXPECT_EQ(url.out, (Root() / key).string() + "\n");
  }
  CliResult ls = Run({"ls", Url()});
  EXPECT_EQ(ls.out, "données/été\nemoji/🎉\n☃/snow man\n日本語\n");
  CliResult rm = Run({"rm", Url(), "☃/snow man"});
  EXPECT_EQ(rm.exit_code, 0);
  EXPECT_FALSE(fs::exists(Root() / "☃/snow man"));
}

TEST_F(CliTest, KeysAndValuesStartingWithADashFollowADoubleDash) {
  CliResult put = Run({"put", Url(), "--", "-k", "-5"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(ReadFile(Root() / "-k"), "-5");
  EXPECT_EQ(Run({"get", Url(), "--", "-k"}).out, "-5");
  EXPECT_EQ(Run({"rm", Url(), "--", "-k"}).exit_code, 0);
}

TEST_F(CliTest, RmRemovesEveryKeyAndExits1IfOneWasMissing) {
  Put("a", "1");
  Put("b", "2");
  Put("c", "3");
  CliResult r = Run({"rm", Url(), "a", "b"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  r = Run({"rm", Url(), "nope", "c"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "backends: rm \"nope\": no such key\n");
  EXPECT_EQ(Run({"ls", Url()}).out, "");
}

TEST_F(CliTest, LsListsSortedKeysByPrefixAndLongFormat) {
  EXPECT_EQ(Run({"ls", Url()}).out, "");  // An empty store.
  Put("b", "22");
  Put("a/2", "4444");
  Put("a/1", "1");
  CliResult all = Run({"ls", Url()});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_EQ(all.out, "a/1\na/2\nb\n");
  EXPECT_EQ(Run({"ls", Url(), "a/"}).out, "a/1\na/2\n");
  EXPECT_EQ(Run({"ls", Url(), "zzz"}).out, "");
  CliResult lng = Run({"ls", "-l", Url(), "a/"});
  EXPECT_EQ(lng.exit_code, 0);
  EXPECT_THAT(
      lng.out,
      MatchesRegex(" +1  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  a/1\n"
                   " +4  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  a/2\n"));
}

TEST_F(CliTest, CpCopiesEveryKeyInParallel) {
  for (int i = 0; i < 40; ++i) {
    WriteFile(Root() / ("k" + std::to_string(i)),
              AllBytes() + std::to_string(i));
  }
  fs::path copy = dir_.path() / "copy";
  CliResult r = Run({"cp", Url(), "file://" + copy.string(), "--jobs", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "cp: 40 copied, 0 unchanged, 0 skipped, 0 failed\n");
  for (int i = 0; i < 40; ++i) {
    std::string key = "k" + std::to_string(i);
    EXPECT_EQ(ReadFile(copy / key), AllBytes() + std::to_string(i)) << key;
  }
  CliResult quiet = Run({"--quiet", "cp", Url(), "file://" + copy.string()});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_THAT(quiet.err, IsEmpty());
}

TEST_F(CliTest, CpWithPrefixCopiesOnlyThoseKeys) {
  Put("logs/1", "a");
  Put("logs/2", "b");
  Put("data/1", "c");
  fs::path copy = dir_.path() / "copy";
  CliResult r =
      Run({"cp", Url(), "file://" + copy.string(), "--prefix", "logs/"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Run({"ls", "file://" + copy.string()}).out, "logs/1\nlogs/2\n");
}

TEST_F(CliTest, CpUpdateSkipsUnchangedValues) {
  for (const char* key : {"same1", "same2", "changed", "grown"}) {
    Put(key, std::string("v-") + key);
  }
  fs::path copy = dir_.path() / "copy";
  const std::string dst = "file://" + copy.string();
  ASSERT_EQ(Run({"cp", Url(), dst}).exit_code, 0);
  auto inode = [&](const char* key) {
    struct stat st {};
    ::stat((copy / key).c_str(), &st);
    return st.st_ino;
  };
  auto same_before = inode("same1");
  auto changed_before = inode("changed");
  Put("changed", "v-CHANGED");  // Same size, other bytes.
  Put("grown", "v-grown, and longer");
  CliResult r = Run({"cp", "--update", Url(), dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "cp: 2 copied, 2 unchanged, 0 skipped, 0 failed\n");
  // Unchanged values were not rewritten (a rewrite renames a new file in).
  EXPECT_EQ(inode("same1"), same_before);
  EXPECT_NE(inode("changed"), changed_before);
  EXPECT_EQ(ReadFile(copy / "changed"), "v-CHANGED");
  EXPECT_EQ(ReadFile(copy / "grown"), "v-grown, and longer");
}

TEST_F(CliTest, CpIntoJsonStoreNamesAValueThatIsNotJsonAndGoesOnOrFailsFast) {
  Put("a", "not json");
  Put("b", "[1, 2]");
  fs::path copy = dir_.path() / "copy";
  WriteFile(copy / "a", "\"old a\"");
  CliResult r = Run(
      {"cp", Url(), "file://" + copy.string() + "?format=json", "--jobs", "1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(CountLines(r.err), 2) << r.err;
  EXPECT_THAT(
      r.err, AllOf(HasSubstr("failed: dump \"a\""), HasSubstr("not valid JSON"),
                   HasSubstr("cp: 1 copied, 0 unchanged, 0 skipped, "
                             "1 failed\n")));
  EXPECT_EQ(ReadFile(copy / "a"), "\"old a\"");
  EXPECT_EQ(ReadFile(copy / "b"), "[\n    1,\n    2\n]");

  // --fail-fast stops there.
  copy = dir_.path() / "fast";
  r = Run({"cp", Url(), "file://" + copy.string() + "?format=json", "--jobs",
           "1", "--fail-fast"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("0 copied, 0 unchanged, 0 skipped, 1 failed; "
                               "stopped at the first failure"));
  EXPECT_FALSE(fs::exists(copy / "b"));
}

TEST_F(CliTest, InterruptedCpLeavesEveryValueWhole) {
  // Written directly (the file store's layout: key K is the file ROOT/K).
  const int kKeys = 2000;
  auto value_of = [](int i) {
    return std::string(512, static_cast<char>('a' + i % 26)) +
           std::to_string(i);
  };
  for (int i = 0; i < kKeys; ++i) {
    WriteFile(Root() / ("k" + std::to_string(i)), value_of(i));
  }
  fs::path copy = dir_.path() / "copy";
  // Half the destination already holds other values.
  for (int i = 0; i < kKeys; i += 2) {
    WriteFile(copy / ("k" + std::to_string(i)), "old");
  }
  CliProcess cp(
      {.args = {"cp", Url(), "file://" + copy.string(), "--jobs", "2"},
       .cwd = dir_.path()});
  // Wait until cp has written a value it did not find there (k1 comes
  // second in key order); the deadline only guards against a hang.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(copy / "k1")) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "cp never wrote";
    ::sched_yield();
  }
  ASSERT_EQ(::kill(cp.pid(), SIGINT), 0);
  CliResult r = cp.Wait();
  EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.err;
  EXPECT_THAT(r.err, HasSubstr("interrupted by SIGINT after"));
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  int copied = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "k" + std::to_string(i);
    EXPECT_EQ(ReadFile(Root() / key), value_of(i)) << key;  // Source intact.
    if (!fs::exists(copy / key)) {
      EXPECT_NE(i % 2, 0) << key;  // An old value never disappears.
      continue;
    }
    std::string got = ReadFile(copy / key);
    if (got == value_of(i)) {
      ++copied;
    } else {
      EXPECT_EQ(got, "old") << key;  // Old or new, never torn.
    }
  }
  RecordProperty("copied_before_interrupt", copied);
  EXPECT_GT(copied, 0);
  EXPECT_LT(copied, kKeys);
  // No temporary file shows up as a key.
  CliResult ls = Run({"ls", "file://" + copy.string()});
  EXPECT_THAT(ls.out, Not(HasSubstr("backends-tmp")));
}

TEST_F(CliTest, TextFormatAcceptsOnlyUtf8) {
  CliResult ok = Run({"put", Url("?format=text"), "t", "héllo"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  CliResult bad = Run({"put", Url("?format=text"), "t"}, "\xff\xfe bad");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_THAT(bad.err, AllOf(HasSubstr("\"t\""), HasSubstr("UTF-8")));
  EXPECT_EQ(ReadFile(Root() / "t"), "héllo");
  Put("raw", "\xff");
  CliResult get = Run({"get", Url("?format=text"), "raw"});
  EXPECT_EQ(get.exit_code, 3);
  EXPECT_THAT(get.out, IsEmpty());
}

TEST_F(CliTest, JsonFormatNormalisesToTheOriginalsFormat) {
  CliResult put =
      Run({"put", Url("?format=json"), "cfg"}, R"({"b": 1, "a": ["é", 2.5]})");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  const std::string expected =
      "{\n    \"a\": [\n        \"\\u00e9\",\n        2.5\n    ],\n"
      "    \"b\": 1\n}";
  EXPECT_EQ(ReadFile(Root() / "cfg"), expected);
  EXPECT_EQ(Run({"get", Url("?format=json"), "cfg"}).out, expected);

  CliResult bad = Run({"put", Url("?format=json"), "cfg", "{oops"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_THAT(bad.err, AllOf(HasSubstr("\"cfg\""), HasSubstr("JSON")));
  EXPECT_EQ(ReadFile(Root() / "cfg"), expected);
}

TEST_F(CliTest, JsonLayoutParametersChangeHowValuesAreWritten) {
  const std::string url = Url("?format=json&indent=-1&ensure_ascii=0");
  CliResult put = Run({"put", url, "cfg"}, R"({"b": 1, "a": ["é", 2.5]})");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(ReadFile(Root() / "cfg"), R"({"a":["é",2.5],"b":1})");
  EXPECT_EQ(Run({"get", url, "cfg"}).out, R"({"a":["é",2.5],"b":1})");
  // The cache writes its envelope in the same layout.
  CliResult cached = Run({"put", Url("?cache=json&indent=0"), "c", "[1]"});
  ASSERT_EQ(cached.exit_code, 0) << cached.err;
  EXPECT_THAT(ReadFile(Root() / "c"), HasSubstr("{\n\"content\": [\n1\n],"));
  CliResult bad = Run({"put", Url("?indent=2"), "k", "1"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("indent= needs JSON values"));
}

TEST_F(CliTest, UrlPrintsTheFilePath) {
  CliResult r = Run({"url", Url(), "a/b.txt"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, (Root() / "a/b.txt").string() + "\n");
  CliResult relative = Run({"url", "file://./rel", "k"});
  EXPECT_EQ(relative.exit_code, 0);
  EXPECT_EQ(fs::path(relative.out.substr(0, relative.out.size() - 1)),
            fs::absolute(dir_.path() / "rel" / "k"));
}

TEST_F(CliTest, S3OnlyVerbsFailClearlyOnOtherStores) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"presign", Url(), "k"},
        {"presign", "memory://", "k", "--put"},
        {"make-public", Url(), "k"},
        {"make-private", Url(), "k"},
        {"url", "memory://", "k"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 3) << args[0];
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, AllOf(HasSubstr("\"k\""), HasSubstr("s3://")));
  }
}

TEST_F(CliTest, MemoryStoreLivesForOneProcess) {
  EXPECT_EQ(Run({"put", "memory://", "k", "v"}).exit_code, 0);
  EXPECT_EQ(Run({"get", "memory://", "k"}).exit_code, 1);
  EXPECT_EQ(Run({"ls", "memory://"}).out, "");
  EXPECT_EQ(Run({"rm", "memory://", "k"}).exit_code, 1);
  Put("a", "1");
  Put("b", "2");
  CliResult cp = Run({"cp", Url(), "memory://"});
  EXPECT_EQ(cp.exit_code, 0);
  EXPECT_EQ(cp.err, "cp: 2 copied, 0 unchanged, 0 skipped, 0 failed\n");
}

TEST_F(CliTest, UnknownSchemeAndBadStoreParametersExit3) {
  CliResult r = Run({"ls", "ftp://host/x"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("unknown scheme"));
  fs::create_directories(Root());  // Else ls stops at "no such folder".
  r = Run({"ls", Url("?nonsense=1")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("nonsense"));
}

TEST_F(CliTest, JsonCacheEntriesExpireAndPrune) {
  const std::string cache = Url("?cache=json&timeout=3600");
  ASSERT_EQ(Run({"put", cache, "live", R"({"x": 1})"}).exit_code, 0);
  // The original's envelope on disk.
  EXPECT_THAT(ReadFile(Root() / "live"),
              MatchesRegex("\\{\n    \"content\": \\{\n        \"x\": 1\n"
                           "    \\},\n    \"expiration\": \"[0-9T:-]{19}\"\n"
                           "\\}"));
  WriteFile(Root() / "stale",
            R"({"content": 1, "expiration": "2000-01-01T00:00:00"})");
  EXPECT_EQ(Run({"get", cache, "live"}).out, "{\n    \"x\": 1\n}");
  CliResult prune = Run({"cache", "prune", Url("?cache=json")});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_EQ(prune.out, "removed 1 expired entry\n");
  EXPECT_FALSE(fs::exists(Root() / "stale"));
  EXPECT_TRUE(fs::exists(Root() / "live"));
  // A timeout of 0 writes an entry that is already expired.
  ASSERT_EQ(Run({"put", Url("?cache=json&timeout=0"), "gone", "2"}).exit_code,
            0);
  EXPECT_EQ(Run({"get", cache, "gone"}).exit_code, 1);
}

TEST_F(CliTest, TextCachePrunesByModificationTime) {
  Put("old", "old page");
  Put("new", "new page");
  // Make "old" two hours old.
  auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(Root() / "old", two_hours_ago);
  CliResult prune = Run({"cache", "prune", Url("?cache=text&timeout=3600")});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_EQ(prune.out, "removed 1 expired entry\n");
  EXPECT_FALSE(fs::exists(Root() / "old"));
  EXPECT_EQ(ReadFile(Root() / "new"), "new page");
}

TEST_F(CliTest, PruningATextCacheWithoutATimeoutIsAUsageError) {
  Put("old", "old page");
  auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(Root() / "old", two_hours_ago);
  CliResult r = Run({"cache", "prune", Url("?cache=text")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("needs &timeout=SECONDS"));
  EXPECT_EQ(ReadFile(Root() / "old"), "old page");  // Not guessed at 300 s.
}

TEST_F(CliTest, CachePruneWithoutACacheIsAUsageError) {
  Put("k", "v");
  CliResult r = Run({"cache", "prune", Url()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("?cache=json"));
  EXPECT_EQ(ReadFile(Root() / "k"), "v");
}

}  // namespace
}  // namespace backends::testing
