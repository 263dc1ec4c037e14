// backends: get, put, list and copy values in any store from the shell.
//
// The command line is parsed with CLI11; each verb is a function in
// commands.cc / copy.cc that returns the exit code (see commands.h).

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <utility>

#include "cli_store.h"
#include "commands.h"
#include "help.h"
#include "interrupt.h"
#include "s3_verbs.h"

namespace {

using namespace backends::cli;  // NOLINT: a .cc file's own namespace.

constexpr const char* kFooter = R"(Store URLs:
  memory://                        a store in this process (gone on exit)
  file://./dir, file:///abs/dir    a folder: key K is the file dir/K
  ./dir, /abs/dir, dir             the same, as a plain path (anything not
                                   SCHEME://; no ?parameters). Verbs that
                                   read (get, ls, rm, cp's SRC, cache prune)
                                   never create it: "no such folder", exit 3
  s3://bucket/prefix?region=R&endpoint=http://127.0.0.1:7480&path_style=1
                                   S3; credentials from the standard AWS
                                   places (environment, ~/.aws), never here
Parameters the tool adds to any URL:
  ?format=raw|text|json            raw bytes (default), UTF-8 text, or JSON
                                   (checked, stored in the original's format)
  ?cache=json|text&timeout=N       the JsonCache / TextCache layer (seconds);
                                   values are JSON / UTF-8 text (no format=raw)

Examples:
  backends put file://./data greeting 'hello'
  echo '{"b": 1, "a": [1, 2]}' | backends put 'file://./data?format=json' cfg
  backends get file://./data greeting
  backends ls -l file://./data
  backends cp file://./data s3://bucket/backup/ --jobs 8 --update
  backends get file://./data photo.jpg -o photo.jpg

Exit codes: 0 ok; 1 key missing (get, rm); 2 usage error; 3 other failure
(one line on stderr naming the key and the cause; invalid keys are 3);
130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP, after removing temporary
files and aborting open uploads (a second Ctrl-C exits at once).)";

// CLI11 validator: the URL parses and its tool parameters are known, so a
// bad ?format= is a usage error (exit 2) found before anything is opened.
std::string CheckStoreUrl(const std::string& url) {
  auto spec = StoreSpec::Parse(url);
  if (spec.ok()) return "";
  return spec.status().message();
}

// The innermost verb the command line selected, for its usage line.
const CLI::App* SelectedVerb(const CLI::App& app) {
  const CLI::App* current = &app;
  while (!current->get_subcommands().empty()) {
    current = current->get_subcommands().front();
  }
  return current;
}

int UsageError(const CLI::App& app, const CLI::ParseError& error) {
  const CLI::App* verb = SelectedVerb(app);
  std::string name;
  for (const CLI::App* a = verb; a != nullptr; a = a->get_parent()) {
    name = a->get_name() + (name.empty() ? "" : " " + name);
  }
  std::fprintf(stderr, "backends: %s\n%s", error.what(),
               CLI::Formatter().make_usage(verb, name).c_str());
  std::fprintf(stderr, "Run '%s --help' for more.\n", name.c_str());
  return kExitUsage;
}

// Adds the positional URL (checked by CheckStoreUrl) and, if `key` is
// given, the positional KEY that most verbs take.
void AddUrlKey(CLI::App* verb, std::string& url, std::string* key,
               const char* url_help = "Store URL") {
  verb->add_option("URL", url, url_help)
      ->required()
      ->check(CLI::Validator(CheckStoreUrl, "URL", "store URL"));
  if (key != nullptr) verb->add_option("KEY", *key, "Key")->required();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "backends: get, put, list and copy values in any store (memory, "
      "folders, S3)",
      "backends"};
  app.set_version_flag("--version", std::string("backends ") + BACKENDS_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(kFooter);
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "No progress bar or summary");

  PutArgs put;
  auto* put_cmd =
      app.add_subcommand("put", "Store VALUE (or stdin, or -f FILE) under KEY");
  AddUrlKey(put_cmd, put.url, &put.key);
  auto* value_opt =
      put_cmd->add_option("VALUE", put.value, "Value; '-' or absent: stdin");
  put_cmd
      ->add_option("-f,--file", put.file,
                   "Read the value from FILE ('-': stdin)")
      ->excludes(value_opt);
  put_cmd->footer(VerbFooter(
      {.file_writes = true, .s3_writes = true, .format = true, .cache = true},
      "", "backends put file://./data notes/today 'hello'"));

  GetArgs get;
  auto* get_cmd = app.add_subcommand(
      "get", "Write the value of KEY to stdout (or -o FILE)");
  AddUrlKey(get_cmd, get.url, &get.key);
  get_cmd->add_option("-o,--output", get.output,
                      "Write to FILE (atomically: temp file + rename)");
  get_cmd->footer(
      VerbFooter({.format = true, .cache = true},
                 "Raw bytes, no newline added. Exit 1 if KEY does not exist.",
                 "backends get ./data photo.jpg -o photo.jpg"));

  RmArgs rm;
  auto* rm_cmd = app.add_subcommand("rm", "Remove keys");
  AddUrlKey(rm_cmd, rm.url, nullptr);
  rm_cmd->add_option("KEY", rm.keys, "Keys")->required();
  rm_cmd->footer(VerbFooter(
      {.file_writes = true, .cache = true},
      "Exit 1 if a key did not exist (the others are still removed).",
      "backends rm file://./data notes/today notes/old"));

  LsArgs ls;
  auto* ls_cmd = app.add_subcommand("ls", "List keys, one per line, sorted");
  AddUrlKey(ls_cmd, ls.url, nullptr);
  ls_cmd->add_option("PREFIX", ls.prefix, "Only keys starting with PREFIX");
  ls_cmd->add_flag("-l,--long", ls.long_format,
                   "Size in bytes and modification time (UTC) too");
  ls_cmd->footer(
      VerbFooter({.cache = true}, "",
                 "backends ls -l 's3://bucket/site?region=eu-west-1' "
                 "img/"));

  CpArgs cp;
  auto* cp_cmd = app.add_subcommand(
      "cp", "Copy every key (or --prefix P) from one store to another");
  cp_cmd->add_option("SRC", cp.source_url, "Source store URL")
      ->required()
      ->check(CLI::Validator(CheckStoreUrl, "URL", "store URL"));
  cp_cmd->add_option("DST", cp.destination_url, "Destination store URL")
      ->required()
      ->check(CLI::Validator(CheckStoreUrl, "URL", "store URL"));
  cp_cmd->add_option("--prefix", cp.prefix, "Only keys starting with P");
  cp_cmd->add_option("-j,--jobs", cp.jobs, "Parallel copies")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cp_cmd->add_flag("-u,--update", cp.update,
                   "Skip keys whose destination value is already the same");
  cp_cmd->add_flag("--fail-fast", cp.fail_fast,
                   "Stop at the first key that fails (default: go on, "
                   "name each failure, exit 3 at the end)");
  cp_cmd->footer(VerbFooter(
      {.file_writes = true, .s3_writes = true, .format = true, .cache = true},
      "Each value is written atomically: an interrupted cp (Ctrl-C) stops\n"
      "between chunks and leaves every destination value old or new.\n"
      "SRC is read with SRC's parameters, DST written with DST's (durable,\n"
      "content_type... matter on DST only).",
      "backends cp ./site 's3://bucket/site?content_type=text/html' "
      "--jobs 8 --update"));

  UrlArgs url;
  auto* url_cmd = app.add_subcommand(
      "url", "The public URL (s3://) or the file path (file://) of KEY");
  AddUrlKey(url_cmd, url.url, &url.key);
  url_cmd->footer(VerbFooter({}, "",
                             "backends url 's3://bucket/site?region=eu-west-1' "
                             "index.html"));

  PresignArgs presign;
  long long expires = 3600;
  auto* presign_cmd =
      app.add_subcommand("presign", "A presigned URL for KEY (s3:// only)");
  AddUrlKey(presign_cmd, presign.url, &presign.key);
  presign_cmd->add_option("--expires", expires, "Lifetime in seconds")
      ->check(CLI::Range(1LL, 7LL * 24 * 3600))
      ->capture_default_str();
  presign_cmd->add_flag("--put", presign.put, "A URL to upload (PUT) instead");
  presign_cmd->footer(VerbFooter(
      {}, "The URL grants access to whoever holds it: treat it as a secret.",
      "backends presign s3://bucket/backups db.tar --expires 600"));

  AclArgs make_public{.make_public = true};
  auto* public_cmd = app.add_subcommand(
      "make-public", "Let anyone read KEY (ACL public-read; s3:// only)");
  AddUrlKey(public_cmd, make_public.url, &make_public.key);
  public_cmd->footer(
      VerbFooter({}, "", "backends make-public s3://bucket/site index.html"));

  AclArgs make_private{.make_public = false};
  auto* private_cmd = app.add_subcommand(
      "make-private", "Let only the owner read KEY (ACL private; s3:// only)");
  AddUrlKey(private_cmd, make_private.url, &make_private.key);
  private_cmd->footer(
      VerbFooter({}, "", "backends make-private s3://bucket/site draft.html"));

  S3VerbCommands s3_verbs;
  AddS3Verbs(app, s3_verbs);

  PruneArgs prune;
  auto* cache_cmd = app.add_subcommand("cache", "Cache maintenance");
  cache_cmd->require_subcommand(1);
  auto* prune_cmd = cache_cmd->add_subcommand(
      "prune", "Remove the expired entries of a JsonCache/TextCache");
  AddUrlKey(prune_cmd, prune.url, nullptr, "Cache URL (?cache=json|text)");
  prune_cmd->footer(VerbFooter(
      {.file_writes = true, .cache = true},
      "cache=json entries carry their expiry; cache=text entries expire\n"
      "timeout=SECONDS after their modification time, so a text cache needs\n"
      "timeout= (a usage error without it). Also:\n"
      "  backends cache prune 'file://./cache?cache=json'",
      "backends cache prune 'file://./pages?cache=text&timeout=3600'"));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e);
  }

  put.quiet = get.quiet = cp.quiet = prune.quiet = s3_verbs.quiet = quiet;
  presign.expires = std::chrono::seconds(expires);
  const std::pair<const CLI::App*, std::function<backends::Result<int>()>>
      verbs[] = {
          {put_cmd, [&] { return RunPut(put); }},
          {get_cmd, [&] { return RunGet(get); }},
          {rm_cmd, [&] { return RunRm(rm); }},
          {ls_cmd, [&] { return RunLs(ls); }},
          {cp_cmd, [&] { return RunCp(cp); }},
          {url_cmd, [&] { return RunUrl(url); }},
          {presign_cmd, [&] { return RunPresign(presign); }},
          {public_cmd, [&] { return RunAcl(make_public); }},
          {private_cmd, [&] { return RunAcl(make_private); }},
          {prune_cmd, [&] { return RunCachePrune(prune); }},
      };
  // The verbs that write catch interrupts to clean up (interrupt.h); the
  // others die by the signal, having nothing to undo.
  for (const CLI::App* writer : {put_cmd, get_cmd, cp_cmd, rm_cmd, prune_cmd}) {
    if (writer->parsed()) CatchInterrupts();
  }
  backends::Result<int> result = kExitUsage;
  for (const auto& [verb, run] : verbs) {
    if (verb->parsed()) result = run();
  }
  if (auto ran = RunS3Verbs(s3_verbs)) result = std::move(*ran);
  if (InterruptSignal() != 0) {
    if (!result.ok()) PrintError(result.status());
    ExitForInterrupt();
  }
  if (!result.ok()) {
    PrintError(result.status());
    return kExitFailure;
  }
  return *result;
}
