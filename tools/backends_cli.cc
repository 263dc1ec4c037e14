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
#include <vector>

#include "cli_store.h"
#include "commands.h"
#include "help.h"
#include "interrupt.h"
#include "listing.h"
#include "s3_verbs.h"

namespace {

using namespace backends::cli;  // NOLINT: a .cc file's own namespace.

constexpr const char* kFooter = R"(Store URLs:
  memory://                        a store in this process (gone on exit)
  file://./dir, file:///abs/dir    a folder: key K is the file dir/K
  ./dir, /abs/dir, dir             the same, as a plain path (anything not
                                   SCHEME://; no ?parameters). Verbs that
                                   read (get, ls, stat, rm, the SRC of cp
                                   and sync, cache prune)
                                   never create it: "no such folder", exit 3
  s3://bucket/prefix?region=R&endpoint=http://127.0.0.1:7480&path_style=1
                                   S3; credentials from the standard AWS
                                   places (environment, ~/.aws), never here
  sqlite:///abs/app.db?table=T, sqlite://app.db
                                   a table (default "backends") of a SQLite
                                   database file; reading verbs never create
                                   it. &durable=1: synchronous=FULL
  redis://[user@]host[:port][/db][?prefix=P], redis+unix:///path.sock
                                   Redis strings under a key prefix; the
                                   password from REDISCLI_AUTH (or the URL);
                                   with ?cache= Redis keeps the expiry;
                                   ?cluster=1: a Redis Cluster, from one node
  rediss://...?cacert=PATH&cert=PATH&key=PATH
                                   Redis over TLS: the server's certificate
                                   checked against cacert (else the system's
                                   CAs) and the host; cert/key: a client
                                   certificate
Parameters the tool adds to any URL:
  ?format=raw|text|json            raw bytes (default), UTF-8 text, or JSON
                                   (checked, stored in the original's format)
  ?cache=json|text&timeout=N       the JsonCache / TextCache layer (seconds);
                                   values are JSON / UTF-8 text (no format=raw);
                                   on sqlite:// each row keeps its expiry;
                                   also max_entries=N, max_bytes=N (limits),
                                   decoded_bytes=N (cache=json)
  ?indent=N&ensure_ascii=0|1       how JSON values are written (default 4, 1)
  ?front=URL&max_age=N             read through the store at URL (percent-
                                   encoded) in front; also serve_stale=1,
                                   front_max_entries=N, front_max_bytes=N

Examples:
  backends put file://./data greeting 'hello'
  echo '{"b": 1, "a": [1, 2]}' | backends put 'file://./data?format=json' cfg
  backends get file://./data greeting
  backends ls -l file://./data
  backends ls --delimiter / file://./data users/
  backends stat s3://bucket/site index.html
  backends cp file://./data s3://bucket/backup/ --jobs 8 --update
  backends sync ./site s3://bucket/site --delete --dry-run
  backends rm --recursive file://./data tmp/
  backends get file://./data photo.jpg -o photo.jpg

Exit codes: 0 ok; 1 key missing (get, stat, rm); 2 usage error; 3 other failure
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

// --include / --exclude on `verb`; FilterRules() reads them back in
// command-line order (the last matching rule decides).
struct FilterOptions {
  CLI::Option* include = nullptr;
  CLI::Option* exclude = nullptr;
  std::vector<std::string> includes;
  std::vector<std::string> excludes;
};

void AddFilterOptions(CLI::App* verb, FilterOptions& filter) {
  filter.include =
      verb->add_option("--include", filter.includes,
                       "Select keys matching GLOB (* ? [..]; * crosses /)")
          ->allow_extra_args(false)
          ->type_name("GLOB");
  filter.exclude =
      verb->add_option("--exclude", filter.excludes,
                       "Leave out keys matching GLOB; the last matching "
                       "--include/--exclude decides")
          ->allow_extra_args(false)
          ->type_name("GLOB");
}

KeyFilter FilterRules(const CLI::App* verb, const FilterOptions& filter) {
  std::vector<FilterRule> rules;
  std::size_t next_include = 0;
  std::size_t next_exclude = 0;
  for (const CLI::Option* option : verb->parse_order()) {
    if (option == filter.include && next_include < filter.includes.size()) {
      rules.push_back({true, filter.includes[next_include++]});
    } else if (option == filter.exclude &&
               next_exclude < filter.excludes.size()) {
      rules.push_back({false, filter.excludes[next_exclude++]});
    }
  }
  return KeyFilter(std::move(rules));
}

constexpr const char* kFilterNotes =
    "--include/--exclude GLOB (repeatable): the whole key (with any PREFIX)\n"
    "is matched; '*' and '?' match any character, '/' too. The last rule\n"
    "that matches decides; a key none matches is selected unless an\n"
    "--include was given.";

constexpr const char* kUpdateNotes =
    "--update reads the destination's listing along with the source's and\n"
    "reads no value: a key is unchanged when the sizes match and the ETags\n"
    "match (S3 to S3), the times are equal (folder to folder: cp keeps\n"
    "them), or else the destination is not older, to the second. With\n"
    "format=json or a cache on a side, or a store without times, contents\n"
    "decide; --checksum compares contents of keys of the same size.\n";

// cp and sync share their options.
void AddCopyOptions(CLI::App* verb, CpArgs& args, FilterOptions& filter) {
  verb->add_option("SRC", args.source_url, "Source store URL")
      ->required()
      ->check(CLI::Validator(CheckStoreUrl, "URL", "store URL"));
  verb->add_option("DST", args.destination_url, "Destination store URL")
      ->required()
      ->check(CLI::Validator(CheckStoreUrl, "URL", "store URL"));
  verb->add_option("--prefix", args.prefix, "Only keys starting with P");
  verb->add_option("-j,--jobs", args.jobs, "Parallel copies")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  verb->add_flag("--checksum", args.checksum,
                 "--update, but keys of the same size are compared by their "
                 "bytes (both values are read)");
  verb->add_flag("-n,--dry-run", args.dry_run,
                 "Print the plan (copy KEY, delete KEY) on stdout and change "
                 "nothing");
  verb->add_flag("--fail-fast", args.fail_fast,
                 "Stop at the first key that fails (default: go on, "
                 "name each failure, exit 3 at the end)");
  AddFilterOptions(verb, filter);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "backends: get, put, list and copy values in any store (memory, "
      "folders, S3, SQLite, Redis)",
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
  auto* if_absent = put_cmd->add_flag(
      "--if-absent", put.if_absent,
      "Only if KEY holds no value (else exit 3, nothing written)");
  put_cmd
      ->add_option("--if-version", put.if_version,
                   "Only if KEY's version (stat, an earlier "
                   "conditional put) is V (else exit 3, nothing written)")
      ->type_name("V")
      ->excludes(if_absent);
  put_cmd->footer(VerbFooter(
      {.file_writes = true, .s3_writes = true, .format = true, .cache = true},
      "With --if-absent or --if-version the new value's version is printed\n"
      "on stdout; a failed condition says \"precondition failed\".",
      "backends put file://./data notes/today 'hello'"));

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
  FilterOptions rm_filter;
  auto* rm_cmd = app.add_subcommand("rm", "Remove keys");
  AddUrlKey(rm_cmd, rm.url, nullptr);
  rm_cmd->add_option("KEY", rm.keys, "Keys (with -r: one PREFIX)")->required();
  rm_cmd->add_flag("-r,--recursive", rm.recursive,
                   "Remove every key starting with PREFIX (not empty)");
  AddFilterOptions(rm_cmd, rm_filter);
  rm_cmd->footer(VerbFooter(
      {.file_writes = true, .cache = true},
      std::string(
          "Exit 1 if a key did not exist (the others are still removed).\n"
          "-r PREFIX walks the listing in pages and removes each selected "
          "key;\n"
          "Ctrl-C stops it between two keys (those removed stay removed).\n"
          "Ends with 'rm: removed N keys' on stderr. ") +
          kFilterNotes +
          "\nAlso: backends rm -r ./data tmp/ --exclude '*.keep'",
      "backends rm file://./data notes/today notes/old"));

  MvArgs mv;
  auto* mv_cmd = app.add_subcommand(
      "mv", "Rename KEY to DST within one store (--keep: copy it)");
  AddUrlKey(mv_cmd, mv.url, &mv.source_key);
  mv_cmd->add_option("DST", mv.destination_key, "New key")->required();
  mv_cmd->add_flag("--keep", mv.keep, "Copy: keep KEY too");
  mv_cmd->footer(VerbFooter(
      {.file_writes = true, .s3_writes = true, .format = true, .cache = true},
      "DST is replaced. Atomic on folders (rename(2)) and SQLite; on S3 a\n"
      "server-side copy, then a delete. Values move unchanged. Exit 1 if\n"
      "KEY does not exist.",
      "backends mv file://./data drafts/today notes/today"));

  LsArgs ls;
  FilterOptions ls_filter;
  auto* ls_cmd = app.add_subcommand("ls", "List keys, one per line, sorted");
  AddUrlKey(ls_cmd, ls.url, nullptr);
  ls_cmd->add_option("PREFIX", ls.prefix, "Only keys starting with PREFIX");
  ls_cmd->add_flag("-l,--long", ls.long_format,
                   "Size in bytes and modification time (UTC) too, from "
                   "the listing");
  ls_cmd
      ->add_option("-d,--delimiter", ls.delimiter,
                   "One level: keys holding D after PREFIX are shown once "
                   "as their common prefix, ending with D")
      ->type_name("D");
  AddFilterOptions(ls_cmd, ls_filter);
  ls_cmd->footer(VerbFooter(
      {.cache = true},
      std::string("Reads the listing in pages of 1000 keys. With -l a\n"
                  "common prefix shows PRE instead of a size.\n") +
          kFilterNotes + "\nAlso: backends ls --delimiter / ./data photos/",
      "backends ls -l 's3://bucket/site?region=eu-west-1' img/"));

  StatArgs stat;
  auto* stat_cmd = app.add_subcommand(
      "stat", "What the store knows of KEY: size, time, ETag, type, metadata");
  AddUrlKey(stat_cmd, stat.url, &stat.key);
  stat_cmd->footer(VerbFooter(
      {.cache = true},
      "One 'name: value' line each: key, size, modified (UTC), and where\n"
      "the store keeps them etag (S3) or version, content-type,\n"
      "content-encoding, 'metadata NAME: VALUE'. Exit 1 if KEY does not\n"
      "exist.",
      "backends stat 's3://bucket/site?region=eu-west-1' index.html"));

  CpArgs cp;
  FilterOptions cp_filter;
  auto* cp_cmd = app.add_subcommand(
      "cp", "Copy every key (or --prefix P) from one store to another");
  AddCopyOptions(cp_cmd, cp, cp_filter);
  cp_cmd->add_flag("-u,--update", cp.update,
                   "Skip keys whose destination is the same by the "
                   "listings (size, then ETag or time; see below)");
  cp_cmd->footer(VerbFooter(
      {.file_writes = true, .s3_writes = true, .format = true, .cache = true},
      std::string(
          "Each value is written atomically: an interrupted cp (Ctrl-C) "
          "stops\nbetween chunks and leaves every destination value old or "
          "new.\nSRC is read with SRC's parameters, DST written with DST's\n"
          "(durable, content_type... matter on DST only). SRC is read in\n"
          "listing pages.\n") +
          kUpdateNotes + kFilterNotes,
      "backends cp ./site 's3://bucket/site?content_type=text/html' "
      "--jobs 8 --update"));

  CpArgs sync{.update = true, .verb = "sync"};
  FilterOptions sync_filter;
  auto* sync_cmd = app.add_subcommand(
      "sync", "Make DST like SRC: cp --update, and --delete what SRC lacks");
  AddCopyOptions(sync_cmd, sync, sync_filter);
  sync_cmd->add_flag("--delete", sync.delete_extra,
                     "Remove destination keys the source lacks (only keys "
                     "the filters select; only if every copy succeeded)");
  sync_cmd->footer(VerbFooter(
      {.file_writes = true, .s3_writes = true, .format = true, .cache = true},
      std::string(
          "Copies the keys that are new or differ (as cp --update), then "
          "with\n--delete removes the destination keys under --prefix that "
          "the\nsource lacks, once every copy succeeded. Keys the filters "
          "leave out\nare neither copied nor deleted. Try --dry-run first: "
          "it prints\n'copy KEY' and 'delete KEY' lines and changes "
          "nothing.\n") +
          kUpdateNotes + kFilterNotes,
      "backends sync ./site 's3://bucket/site' --delete --dry-run"));

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
      "timeout= (a usage error without it), except on sqlite://, where\n"
      "every row keeps its expiry. The cache is read in listing pages;\n"
      "Ctrl-C stops it between two entries. Also:\n"
      "  backends cache prune 'file://./cache?cache=json'\n"
      "  backends cache prune 'sqlite://app.db?cache=text'",
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

  put.quiet = get.quiet = cp.quiet = sync.quiet = rm.quiet = prune.quiet =
      s3_verbs.quiet = quiet;
  ls.filter = FilterRules(ls_cmd, ls_filter);
  cp.filter = FilterRules(cp_cmd, cp_filter);
  sync.filter = FilterRules(sync_cmd, sync_filter);
  rm.filter = FilterRules(rm_cmd, rm_filter);
  presign.expires = std::chrono::seconds(expires);
  const std::pair<const CLI::App*, std::function<backends::Result<int>()>>
      verbs[] = {
          {put_cmd, [&] { return RunPut(put); }},
          {get_cmd, [&] { return RunGet(get); }},
          {rm_cmd, [&] { return RunRm(rm); }},
          {mv_cmd, [&] { return RunMv(mv); }},
          {ls_cmd, [&] { return RunLs(ls); }},
          {stat_cmd, [&] { return RunStat(stat); }},
          {cp_cmd, [&] { return RunCp(cp); }},
          {sync_cmd, [&] { return RunCp(sync); }},
          {url_cmd, [&] { return RunUrl(url); }},
          {presign_cmd, [&] { return RunPresign(presign); }},
          {public_cmd, [&] { return RunAcl(make_public); }},
          {private_cmd, [&] { return RunAcl(make_private); }},
          {prune_cmd, [&] { return RunCachePrune(prune); }},
      };
  // The verbs that write catch interrupts to clean up (interrupt.h); the
  // others die by the signal, having nothing to undo.
  for (const CLI::App* writer :
       {put_cmd, get_cmd, cp_cmd, sync_cmd, rm_cmd, prune_cmd}) {
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
