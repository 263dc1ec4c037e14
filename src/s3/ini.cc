#include "s3/ini.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace backends::s3 {
namespace {

std::string_view Trim(std::string_view text) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Reads `path` into `out`. Returns false when the file does not exist.
Result<bool> ReadIfExists(const std::string& path, std::string& out) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError("cannot read the AWS shared file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

}  // namespace

Environment ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Environment MapEnvironment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](
             std::string_view name) -> std::optional<std::string> {
    auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> EnvValue(const Environment& env,
                                    std::string_view name) {
  std::optional<std::string> value =
      env ? env(name) : ProcessEnvironment()(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

IniFile ParseIni(std::string_view text) {
  IniFile out;
  IniSection* section = nullptr;
  std::string parent;  // key whose nested block is open
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = &out[std::string(Trim(line.substr(1, line.size() - 2)))];
      parent.clear();
      continue;
    }
    const std::size_t equals = line.find('=');
    if (section == nullptr || equals == std::string_view::npos) continue;
    const std::string key = Lower(Trim(line.substr(0, equals)));
    const std::string value(Trim(line.substr(equals + 1)));
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (indented && !parent.empty()) {
      (*section)[parent + "." + key] = value;
      continue;
    }
    parent = value.empty() ? key : std::string();
    if (!value.empty()) (*section)[key] = value;
  }
  return out;
}

std::optional<std::string> SharedProfile::Get(const std::string& key) const {
  for (const auto* section : {&credentials, &config}) {
    if (!*section) continue;
    auto it = (*section)->find(key);
    if (it != (*section)->end() && !it->second.empty()) return it->second;
  }
  return std::nullopt;
}

std::string ExpandHome(std::string_view path, const Environment& env) {
  if (path == "~" || path.starts_with("~/")) {
    if (auto home = EnvValue(env, "HOME")) {
      return *home + std::string(path.substr(1));
    }
  }
  return std::string(path);
}

Result<SharedProfile> LoadSharedProfile(std::string_view profile,
                                        const Environment& env) {
  SharedProfile out;
  if (!profile.empty()) {
    out.name = std::string(profile);
    out.named_explicitly = true;
  } else if (auto name = EnvValue(env, "AWS_PROFILE")) {
    out.name = *name;
    out.named_explicitly = true;
  } else {
    out.name = "default";
  }
  out.credentials_path = ExpandHome(EnvValue(env, "AWS_SHARED_CREDENTIALS_FILE")
                                        .value_or("~/.aws/credentials"),
                                    env);
  out.config_path = ExpandHome(
      EnvValue(env, "AWS_CONFIG_FILE").value_or("~/.aws/config"), env);

  std::string text;
  BACKENDS_ASSIGN_OR_RETURN(out.credentials_file_exists,
                            ReadIfExists(out.credentials_path, text));
  if (out.credentials_file_exists) {
    IniFile file = ParseIni(text);
    if (auto it = file.find(out.name); it != file.end()) {
      out.credentials = std::move(it->second);
    }
  }
  BACKENDS_ASSIGN_OR_RETURN(out.config_file_exists,
                            ReadIfExists(out.config_path, text));
  if (out.config_file_exists) {
    IniFile file = ParseIni(text);
    auto it = file.find("profile " + out.name);
    if (it == file.end() && out.name == "default") it = file.find("default");
    if (it != file.end()) out.config = std::move(it->second);
  }
  return out;
}

}  // namespace backends::s3
