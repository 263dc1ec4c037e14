#pragma once

// The environment and the AWS shared files (~/.aws/credentials and
// ~/.aws/config), as read by the credentials chain and the S3 configuration.
// https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
//
// The environment is injectable so that tests never touch the process's
// own variables.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends::s3 {

/// Reads one environment variable: its value, or std::nullopt when unset.
/// Must be safe to call from many threads.
using Environment =
    std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv).
Environment ProcessEnvironment();

/// A fixed set of variables (tests).
Environment MapEnvironment(std::map<std::string, std::string> variables);

/// The value of `name` when set and not empty, else std::nullopt. A null
/// `env` reads the process environment.
std::optional<std::string> EnvValue(const Environment& env,
                                    std::string_view name);

/// One INI section: lower-cased key -> value. Keys of a nested block
/// ("s3 =" followed by indented "addressing_style = path") are stored as
/// "s3.addressing_style".
using IniSection = std::map<std::string, std::string>;
/// Section name (as written between the brackets, trimmed) -> keys.
using IniFile = std::map<std::string, IniSection>;

/// Parses the AWS flavour of INI: `[section]`, `key = value`, full-line
/// comments starting with '#' or ';', indented nested keys. Lines that are
/// none of these are ignored. A section seen twice merges (later wins).
IniFile ParseIni(std::string_view text);

/// The keys of one profile from both shared files.
struct SharedProfile {
  std::string name;
  /// True when `name` was given explicitly (options or AWS_PROFILE), so a
  /// missing profile is an error rather than "no credentials here".
  bool named_explicitly = false;
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE or ~/.aws/...
  std::string config_path;       // AWS_CONFIG_FILE or ~/.aws/config
  bool credentials_file_exists = false;
  bool config_file_exists = false;
  /// `[name]` of the credentials file (nullopt: no such section).
  std::optional<IniSection> credentials;
  /// `[profile name]` (or `[default]` for "default") of the config file.
  std::optional<IniSection> config;

  bool found() const { return credentials || config; }
  /// The value of `key`, from the credentials file first, then config.
  std::optional<std::string> Get(const std::string& key) const;
};

/// Loads profile `profile` (empty: AWS_PROFILE, else "default") from the
/// shared files. Missing files are not an error (found() is false then).
/// Errors: kInvalidArgument for a file that exists but cannot be read.
Result<SharedProfile> LoadSharedProfile(std::string_view profile,
                                        const Environment& env);

/// `path` with a leading "~/" replaced by $HOME.
std::string ExpandHome(std::string_view path, const Environment& env);

}  // namespace backends::s3
