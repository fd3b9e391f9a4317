#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cex {

// A source file name, or none. Every line from one file shares one immutable string, so a
// copy costs a reference count instead of an allocation: a listing has millions of lines and
// a few dozen files. Reads like std::optional<std::string>.
class AsmFileName {
 public:
  AsmFileName() = default;

  explicit AsmFileName(std::string_view name) : name_(std::make_shared<const std::string>(name)) {}

  // Replaces the name (for this line only; others sharing the old one keep it).
  AsmFileName& operator=(std::string_view name) {
    name_ = std::make_shared<const std::string>(name);
    return *this;
  }

  explicit operator bool() const { return name_ != nullptr; }

  const std::string& operator*() const { return *name_; }

  const std::string* operator->() const { return name_.get(); }

  void reset() { name_.reset(); }

  // Equal only when there is a name and it is `name`.
  friend bool operator==(const AsmFileName& a, std::string_view name) {
    return a.name_ != nullptr && *a.name_ == name;
  }

 private:
  std::shared_ptr<const std::string> name_;
};

// std::optional's interface with the value kept on the heap, for fields that nearly every line
// leaves empty: they then cost one pointer in each of a listing's millions of lines. Copies
// copy the value.
template <typename T>
class HeapOptional {
 public:
  HeapOptional() = default;

  HeapOptional(const HeapOptional& other) { *this = other; }

  HeapOptional(HeapOptional&&) noexcept = default;

  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) {
      value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    }
    return *this;
  }

  HeapOptional& operator=(HeapOptional&&) noexcept = default;

  HeapOptional& operator=(T value) {
    value_ = std::make_unique<T>(std::move(value));
    return *this;
  }

  ~HeapOptional() = default;

  T& emplace() {
    value_ = std::make_unique<T>();
    return *value_;
  }

  explicit operator bool() const { return value_ != nullptr; }

  T& operator*() { return *value_; }

  const T& operator*() const { return *value_; }

  T* operator->() { return value_.get(); }

  const T* operator->() const { return value_.get(); }

  void reset() { value_.reset(); }

 private:
  std::unique_ptr<T> value_;
};

// Where an output line came from, as the compiler's debug directives say.
struct AsmSource {
  // None means the user's main file (serialised as "file": null).
  AsmFileName file;
  int line = 0;
  // 0 means no column (the key is then omitted), unless keep_zero_column is set.
  int column = 0;
  // Writes "column": 0 too (PTX listings report column 0 explicitly).
  bool keep_zero_column = false;
  // Only set when file names are not masked (dontMaskFilenames) and in binary mode.
  std::optional<bool> mainsource;
};

// A reference to a label inside a line's text; columns are 1-based, end exclusive.
struct AsmLabelRef {
  std::string name;
  // The label the reference points at when it differs from `name` (e.g. "foo" for "foo@PLT").
  std::optional<std::string> target;
  int start_col = 0;
  int end_col = 0;
};

// One line of the filtered listing, in Compiler Explorer's `asm[]` shape.
struct AsmLine {
  std::string text;
  std::optional<AsmSource> source;  // nullopt serialises as "source": null.
  std::vector<AsmLabelRef> labels;
  // Binary mode only.
  std::optional<uint64_t> address;
  HeapOptional<std::vector<std::string>> opcodes;
  // Some dialects' lines lack these keys altogether, as their clients know them: MSVC lines
  // have no "labels", 6502 listing lines may have neither. False omits the key.
  bool has_source_key = true;
  bool has_labels_key = true;
};

// Which lines the parser keeps. Names follow the API's `filters` object.
struct AsmFilters {
  bool binary = false;
  bool binary_object = false;
  bool labels = true;         // hide unused labels
  bool directives = true;     // hide assembler directives
  bool comment_only = true;   // hide comment-only lines
  bool library_code = false;  // hide code that comes from other files than the main one
  bool trim = false;          // collapse horizontal whitespace
  bool demangle = true;       // demangle C++ symbols
  bool debug_calls = false;   // hide calls to LLVM debug intrinsics (llvm.dbg.*)
  bool dont_mask_filenames = false;
};

// The parser's output: what the API returns as asm, labelDefinitions, parsingTime and
// filteredCount.
struct ParsedAsm {
  std::vector<AsmLine> lines;
  // Label name -> 1-based index into `lines`, in order of definition.
  std::vector<std::pair<std::string, int>> label_definitions;
  int64_t parsing_time_ms = 0;
  int64_t filtered_count = 0;
  // False for dialects whose result has no labelDefinitions (MSVC, ca65 listings, error
  // documents); the compile result then omits the key.
  bool has_label_definitions = true;
  // Set when the listing is in another language than the compiler's (e.g. "ptx").
  std::string language_id;
};

}  // namespace cex
