#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace cex {

// A property value typed the way Compiler Explorer types it: `true`/`yes` and `false`/`no` are
// booleans, `-?(0|[1-9][0-9]*)` an integer, `-?[0-9]*\.[0-9]+` a double, anything else a string.
// Keys ending `.version` or `.semver` always hold strings. monostate means "not set".
using PropertyValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

// Settings read from Compiler Explorer `.properties` files.
//
// Syntax, one setting per line: `key=value` (both trimmed), `key+=value` (appends to the value
// the same file gave the key earlier, keeping the addition's leading blanks), `#` starts a
// comment anywhere on the line. Malformed lines are skipped with a warning naming file:line.
//
// Files are laid over each other in the order they are added, so a later file wins key by
// key. A lookup that finds nothing here asks the fallback, if any (language settings fall
// back to the `compiler-explorer` ones). String lookups return the text as written; typed
// lookups apply PropertyValue's rules and return nothing when the value has another type.
// Copies are cheap to share through the fallback pointer; a built object is read-only.
class Properties {
 public:
  // Parses `text` (the contents of `source`, used in warnings) and lays it over the
  // settings so far.
  void addText(std::string_view text, std::string_view source);
  // Reads and adds one file. A missing file is NotFound and changes nothing.
  Status addFile(const std::string& path);
  // Sets one key directly, e.g. from the command line; it wins over every file added before.
  void set(std::string_view key, std::string_view value);
  // Where lookups go for keys that are not set here; nullptr for none.
  void setFallback(std::shared_ptr<const Properties> fallback);

  const Properties* fallback() const { return fallback_.get(); }

  bool has(std::string_view key) const { return find(key) != nullptr; }

  // The raw text of `key`, looking in the fallback too; nullptr when unset.
  const std::string* find(std::string_view key) const;
  // Like find() but ignoring the fallback.
  const std::string* findLocal(std::string_view key) const;
  // "file:line" of the setting that gave `key` its value; empty when unset.
  std::string sourceOf(std::string_view key) const;

  PropertyValue getTyped(std::string_view key) const;
  std::optional<std::string> getString(std::string_view key) const;
  std::string getString(std::string_view key, std::string_view default_value) const;
  std::optional<bool> getBool(std::string_view key) const;
  bool getBool(std::string_view key, bool default_value) const;
  std::optional<int64_t> getInt(std::string_view key) const;
  int64_t getInt(std::string_view key, int64_t default_value) const;
  // Integers are accepted as doubles too.
  std::optional<double> getDouble(std::string_view key) const;
  double getDouble(std::string_view key, double default_value) const;
  // The value split on `sep` with blank pieces dropped; empty when unset.
  std::vector<std::string> getList(std::string_view key, char sep = ':') const;

  // Keys set here (not in the fallback) that start with `prefix`, sorted.
  std::vector<std::string> keysWithPrefix(std::string_view prefix) const;

  // Files added so far, in order (only those that existed).
  const std::vector<std::string>& sources() const { return sources_; }

  // Problems found while parsing, each "file:line: what".
  const std::vector<std::string>& warnings() const { return warnings_; }

  // PropertyValue's typing rules applied to one raw value of `key`.
  static PropertyValue typeValue(std::string_view key, std::string_view raw);

 private:
  struct Entry {
    std::string value;
    std::string source;  // "file:line"
  };

  void addWarning(std::string_view source, int line, std::string_view what);

  std::map<std::string, Entry, std::less<>> values_;
  std::shared_ptr<const Properties> fallback_;
  std::vector<std::string> sources_;
  std::vector<std::string> warnings_;
};

// Which files make up a hierarchy besides `<base>.defaults` and `<base>.<env>`.
struct PropertiesHierarchyOptions {
  std::string platform = "linux";
  // Host-specific file `<base>.<hostname>.properties`; empty means this machine's name.
  std::string hostname;
  // Whether `<base>.local.properties` (an operator's own overrides) is read.
  bool include_local = true;
};

// The file names of a hierarchy, least specific first: defaults, env, env.platform,
// platform, hostname, local; `<base>.<name>.properties` each.
std::vector<std::string> propertiesHierarchy(std::string_view base, std::string_view env,
                                             const PropertiesHierarchyOptions& options = {});

// Reads `<config_dir>/<base>.<name>.properties` for every name of the hierarchy; missing
// files are skipped. Fails only when `config_dir` is not a readable directory or a file that
// exists cannot be read.
Result<Properties> loadPropertiesHierarchy(const std::string& config_dir, std::string_view base,
                                           std::string_view env,
                                           const PropertiesHierarchyOptions& options = {});

}  // namespace cex
