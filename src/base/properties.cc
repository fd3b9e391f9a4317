#include "base/properties.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>

#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/strings.h"

namespace cex {

namespace {

// Configuration files are small; anything bigger is a mistake worth refusing.
constexpr uint64_t kMaxPropertiesFileBytes = uint64_t{16} << 20;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// `-?(0|[1-9][0-9]*)`
bool looksLikeInt(std::string_view s) {
  if (!s.empty() && s[0] == '-') {
    s.remove_prefix(1);
  }
  if (s.empty() || (s[0] == '0' && s.size() > 1)) {
    return false;
  }
  for (char c : s) {
    if (!isDigit(c)) {
      return false;
    }
  }
  return true;
}

// `-?[0-9]*\.[0-9]+`
bool looksLikeDouble(std::string_view s) {
  if (!s.empty() && s[0] == '-') {
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot + 1 == s.size()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != dot && !isDigit(s[i])) {
      return false;
    }
  }
  return true;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string trimRight(std::string_view s) {
  size_t end = s.size();
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r')) {
    --end;
  }
  return std::string(s.substr(0, end));
}

std::string thisHostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return {};
  }
  return buf;
}

}  // namespace

void Properties::addWarning(std::string_view source, int line, std::string_view what) {
  std::string message = fmt::format("{}:{}: {}", source, line, what);
  spdlog::warn("properties line at={}:{} problem=\"{}\"", source, line, what);
  warnings_.push_back(std::move(message));
}

void Properties::addText(std::string_view text, std::string_view source) {
  // `+=` may only extend what this same file set, so keep this file's values apart.
  std::map<std::string, std::string, std::less<>> seen_here;
  int line_number = 0;
  for (std::string_view raw : split(text, '\n')) {
    ++line_number;
    std::string_view line = raw.substr(0, raw.find('#'));
    if (trim(line).empty()) {
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      addWarning(source, line_number, "no '=' in line");
      continue;
    }
    std::string_view key = trim(line.substr(0, eq));
    bool append = !key.empty() && key.back() == '+';
    if (append) {
      key = trim(key.substr(0, key.size() - 1));
    }
    if (key.empty()) {
      addWarning(source, line_number, "empty key");
      continue;
    }

    std::string value;
    auto earlier = seen_here.find(key);
    if (append && earlier != seen_here.end()) {
      value = earlier->second + trimRight(line.substr(eq + 1));
    } else {
      if (append) {
        addWarning(source, line_number, "'+=' on a key this file has not set; treated as '='");
      }
      value = std::string(trim(line.substr(eq + 1)));
    }
    seen_here[std::string(key)] = value;
    values_[std::string(key)] = Entry{std::move(value), fmt::format("{}:{}", source, line_number)};
  }
}

Status Properties::addFile(const std::string& path) {
  Result<std::string> text = readFile(path, kMaxPropertiesFileBytes);
  if (!text.ok()) {
    return text.status();
  }
  addText(*text, path);
  sources_.push_back(path);
  return Status::ok();
}

void Properties::set(std::string_view key, std::string_view value) {
  values_[std::string(key)] = Entry{std::string(value), "set"};
}

void Properties::setFallback(std::shared_ptr<const Properties> fallback) {
  fallback_ = std::move(fallback);
}

const std::string* Properties::findLocal(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second.value;
}

const std::string* Properties::find(std::string_view key) const {
  const std::string* value = findLocal(key);
  if (value == nullptr && fallback_ != nullptr) {
    return fallback_->find(key);
  }
  return value;
}

std::string Properties::sourceOf(std::string_view key) const {
  auto it = values_.find(key);
  if (it != values_.end()) {
    return it->second.source;
  }
  return fallback_ != nullptr ? fallback_->sourceOf(key) : std::string();
}

PropertyValue Properties::typeValue(std::string_view key, std::string_view raw) {
  if (endsWith(key, ".version") || endsWith(key, ".semver")) {
    return std::string(raw);
  }
  if (raw == "true" || raw == "yes") {
    return true;
  }
  if (raw == "false" || raw == "no") {
    return false;
  }
  if (looksLikeInt(raw)) {
    int64_t n = 0;
    auto [end, err] = std::from_chars(raw.data(), raw.data() + raw.size(), n);
    if (err == std::errc() && end == raw.data() + raw.size()) {
      return n;
    }
    return std::string(raw);  // Out of range: keep the text rather than a wrong number.
  }
  if (looksLikeDouble(raw)) {
    double d = 0;
    auto [end, err] = std::from_chars(raw.data(), raw.data() + raw.size(), d);
    if (err == std::errc() && end == raw.data() + raw.size()) {
      return d;
    }
  }
  return std::string(raw);
}

PropertyValue Properties::getTyped(std::string_view key) const {
  const std::string* raw = find(key);
  if (raw == nullptr) {
    return std::monostate();
  }
  return typeValue(key, *raw);
}

std::optional<std::string> Properties::getString(std::string_view key) const {
  const std::string* raw = find(key);
  if (raw == nullptr) {
    return std::nullopt;
  }
  return *raw;
}

std::string Properties::getString(std::string_view key, std::string_view default_value) const {
  const std::string* raw = find(key);
  return raw == nullptr ? std::string(default_value) : *raw;
}

std::optional<bool> Properties::getBool(std::string_view key) const {
  PropertyValue v = getTyped(key);
  if (const bool* b = std::get_if<bool>(&v)) {
    return *b;
  }
  return std::nullopt;
}

bool Properties::getBool(std::string_view key, bool default_value) const {
  return getBool(key).value_or(default_value);
}

std::optional<int64_t> Properties::getInt(std::string_view key) const {
  PropertyValue v = getTyped(key);
  if (const int64_t* n = std::get_if<int64_t>(&v)) {
    return *n;
  }
  return std::nullopt;
}

int64_t Properties::getInt(std::string_view key, int64_t default_value) const {
  return getInt(key).value_or(default_value);
}

std::optional<double> Properties::getDouble(std::string_view key) const {
  PropertyValue v = getTyped(key);
  if (const double* d = std::get_if<double>(&v)) {
    return *d;
  }
  if (const int64_t* n = std::get_if<int64_t>(&v)) {
    return static_cast<double>(*n);
  }
  return std::nullopt;
}

double Properties::getDouble(std::string_view key, double default_value) const {
  return getDouble(key).value_or(default_value);
}

std::vector<std::string> Properties::getList(std::string_view key, char sep) const {
  const std::string* raw = find(key);
  return raw == nullptr ? std::vector<std::string>() : splitNonEmpty(*raw, sep);
}

std::vector<std::string> Properties::keysWithPrefix(std::string_view prefix) const {
  std::vector<std::string> keys;
  for (auto it = values_.lower_bound(prefix); it != values_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) {
      break;
    }
    keys.push_back(it->first);
  }
  return keys;
}

std::vector<std::string> propertiesHierarchy(std::string_view base, std::string_view env,
                                             const PropertiesHierarchyOptions& options) {
  std::string hostname = options.hostname.empty() ? thisHostname() : options.hostname;
  std::vector<std::string> names = {"defaults"};
  if (!env.empty()) {
    names.emplace_back(env);
    names.push_back(fmt::format("{}.{}", env, options.platform));
  }
  names.push_back(options.platform);
  if (!hostname.empty()) {
    names.push_back(hostname);
  }
  if (options.include_local) {
    names.emplace_back("local");
  }
  for (std::string& name : names) {
    name = fmt::format("{}.{}.properties", base, name);
  }
  return names;
}

Result<Properties> loadPropertiesHierarchy(const std::string& config_dir, std::string_view base,
                                           std::string_view env,
                                           const PropertiesHierarchyOptions& options) {
  struct stat st {};

  if (::stat(config_dir.c_str(), &st) != 0) {
    return Status::fromErrno("properties config dir " + config_dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::invalidArgument("properties config dir " + config_dir + ": not a directory");
  }

  Properties props;
  for (const std::string& name : propertiesHierarchy(base, env, options)) {
    Status s = props.addFile(config_dir + "/" + name);
    if (!s.isOk() && s.code() != StatusCode::NotFound) {
      return s;
    }
  }
  return props;
}

}  // namespace cex
