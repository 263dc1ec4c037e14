// The S3 verbs (see s3_verbs.h).

#include "s3_verbs.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "commands.h"
#include "help.h"
#if BACKENDS_WITH_S3
#include "backends/s3.h"
#endif

namespace backends::cli {
namespace {

std::string CheckUrl(const std::string& url) {
  auto spec = StoreSpec::Parse(url);
  return spec.ok() ? "" : spec.status().message();
}

#if BACKENDS_WITH_S3
// The S3 store of `url`, opened without checking the bucket (mb creates
// it; the uploads verbs fail on their own request if it is missing).
Result<std::unique_ptr<Store>> OpenS3(const std::string& url,
                                      std::string_view verb, S3Backend*& s3) {
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec spec, StoreSpec::Parse(url));
  if (spec.store_url.starts_with("s3://") &&
      spec.store_url.find("check_bucket=") == std::string::npos) {
    spec.store_url += spec.store_url.find('?') == std::string::npos ? '?' : '&';
    spec.store_url += "check_bucket=0";
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store, Store::Open(spec, OpenMode::kCreate));
  s3 = dynamic_cast<S3Backend*>(&store->base());
  if (s3 == nullptr) {
    return UnimplementedError(std::string(verb) +
                              ": only s3:// stores have buckets and uploads");
  }
  return store;
}

std::string FormatTime(
    const std::optional<std::chrono::system_clock::time_point>& time) {
  if (!time) return "-";
  const std::time_t t = std::chrono::system_clock::to_time_t(*time);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "-";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<int> RunMb(const S3VerbCommands& commands) {
  S3Backend* s3 = nullptr;
  BACKENDS_ASSIGN_OR_RETURN(auto store, OpenS3(commands.mb_url, "mb", s3));
  BACKENDS_RETURN_IF_ERROR(s3->create_bucket());
  return kExitOk;
}

// Prints (ls) or aborts (abort) the uploads the command line selects.
Result<int> RunUploads(const S3VerbCommands& commands, bool abort) {
  std::optional<std::chrono::seconds> older_than;
  if (!commands.older_than.empty()) {
    auto age = ParseAge(commands.older_than);
    if (!age.ok()) {
      PrintError(age.status());
      return kExitUsage;
    }
    older_than = *age;
  }
  S3Backend* s3 = nullptr;
  BACKENDS_ASSIGN_OR_RETURN(
      auto store,
      OpenS3(commands.uploads_url, abort ? "uploads abort" : "uploads ls", s3));
  BACKENDS_ASSIGN_OR_RETURN(auto uploads,
                            s3->list_uploads(commands.uploads_prefix));
  const auto now = std::chrono::system_clock::now();
  std::size_t aborted = 0, failed = 0, kept = 0;
  for (const S3Upload& upload : uploads) {
    if (older_than &&
        (!upload.initiated || now - *upload.initiated < *older_than)) {
      ++kept;
      continue;
    }
    if (!abort) {
      std::printf("%s\t%s\t%s\n", FormatTime(upload.initiated).c_str(),
                  upload.key.c_str(), upload.upload_id.c_str());
      continue;
    }
    auto done = s3->abort_upload(upload);
    if (!done.ok()) {
      PrintError(done.status());
      ++failed;
    } else if (*done) {
      ++aborted;
    }
  }
  if (abort && !commands.quiet) {
    std::fprintf(stderr, "uploads abort: %zu aborted, %zu kept, %zu failed\n",
                 aborted, kept, failed);
  }
  return failed == 0 ? kExitOk : kExitFailure;
}
#endif

}  // namespace

Result<std::chrono::seconds> ParseAge(std::string_view text) {
  long long n = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), n);
  const std::string_view unit(end, text.data() + text.size() - end);
  long long scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  if (unit == "m") scale = 60;
  if (unit == "h") scale = 3600;
  if (unit == "d") scale = 86400;
  if (error != std::errc() || n < 0 || scale == 0 ||
      n > 100LL * 365 * 86400 / scale) {
    return InvalidArgumentError("--older-than \"" + std::string(text) +
                                "\": expected a number of seconds, or N "
                                "followed by s, m, h or d (e.g. 12h)");
  }
  return std::chrono::seconds(n * scale);
}

void AddS3Verbs(CLI::App& app, S3VerbCommands& commands) {
  const auto url_check = CLI::Validator(CheckUrl, "URL", "store URL");
  commands.mb = app.add_subcommand(
      "mb", "Create the bucket of an s3:// URL (CreateBucket)");
  commands.mb->add_option("URL", commands.mb_url, "s3://BUCKET?region=...")
      ->required()
      ->check(url_check);
  commands.mb->footer(VerbFooter(
      {},
      "The bucket is made in the URL's region (a LocationConstraint unless\n"
      "us-east-1). Exit 3 if it exists (some servers, radosgw among them,\n"
      "answer success for a bucket you already own) or the name is refused.",
      "backends mb 's3://new-bucket?region=eu-west-1'"));

  auto* uploads = app.add_subcommand(
      "uploads", "Unfinished multipart uploads under an s3:// store");
  uploads->require_subcommand(1);
  const char* notes =
      "An upload that was neither completed nor aborted (a killed client)\n"
      "keeps its parts, which S3 stores and bills, until it is aborted.\n"
      "Only uploads of keys under the URL's prefix (and PREFIX) are seen.";
  commands.uploads_ls = uploads->add_subcommand(
      "ls", "List them: start time (UTC), key, upload id; tab-separated");
  commands.uploads_abort =
      uploads->add_subcommand("abort", "Abort them, deleting their parts");
  for (CLI::App* verb : {commands.uploads_ls, commands.uploads_abort}) {
    verb->add_option("URL", commands.uploads_url, "Store URL (s3://)")
        ->required()
        ->check(url_check);
    verb->add_option("PREFIX", commands.uploads_prefix,
                     "Only uploads of keys starting with PREFIX");
    verb->add_option("--older-than", commands.older_than,
                     "Only uploads begun at least this long ago: seconds, "
                     "or 30m, 12h, 7d");
  }
  commands.uploads_ls->footer(VerbFooter(
      {}, notes, "backends uploads ls 's3://bucket/backups' --older-than 1d"));
  commands.uploads_abort->footer(VerbFooter(
      {},
      std::string(notes) + "\nExit 3 if an abort failed (the others go on).",
      "backends uploads abort 's3://bucket/backups' --older-than 7d"));
}

std::optional<Result<int>> RunS3Verbs(const S3VerbCommands& commands) {
  const CLI::App* chosen = nullptr;
  for (const CLI::App* verb :
       {commands.mb, commands.uploads_ls, commands.uploads_abort}) {
    if (verb != nullptr && verb->parsed()) chosen = verb;
  }
  if (chosen == nullptr) return std::nullopt;
#if BACKENDS_WITH_S3
  if (chosen == commands.mb) return RunMb(commands);
  return RunUploads(commands, chosen == commands.uploads_abort);
#else
  return Result<int>(UnimplementedError(chosen->get_name() +
                                        ": this build has no S3 support"));
#endif
}

Result<std::optional<bool>> TryServerSideCopy(const Store& source,
                                              const Store& destination,
                                              std::string_view key) {
#if BACKENDS_WITH_S3
  auto as_is = [](const Store& store) -> S3Backend* {
    if (&store.backend() != &store.base() ||
        store.spec().format != ValueFormat::kRaw) {
      return nullptr;  // values pass through a layer or a check
    }
    return dynamic_cast<S3Backend*>(&store.base());
  };
  S3Backend* from = as_is(source);
  S3Backend* to = as_is(destination);
  if (from == nullptr || to == nullptr ||
      from->options().endpoint != to->options().endpoint) {
    return std::optional<bool>();
  }
  BACKENDS_ASSIGN_OR_RETURN(bool copied, to->copy_from(*from, key, key));
  return std::optional<bool>(copied);
#else
  (void)source;
  (void)destination;
  (void)key;
  return std::optional<bool>();
#endif
}

}  // namespace backends::cli
