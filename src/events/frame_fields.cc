#include "events/frame_fields.h"

#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace cex {

namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void appendUtf8(std::string* out, uint32_t code) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// Where the scanner is in the grammar between two tokens.
enum class Expect {
  FirstKey,    // just after '{'
  Key,         // after ',' in an object
  FirstValue,  // just after '['
  Value,       // after ':' or after ',' in an array
  AfterValue,  // a value has ended; ',' or a closing bracket, or the end of the document
};

// One pass over a document. Containers are tracked on an explicit stack of their opening
// brackets; only the top-level object's member names and string values are decoded.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  Result<FrameFields> run();

 private:
  Status fail(std::string_view what) const {
    return Status::invalidArgument(fmt::format("json at byte {}: {}", pos_, what));
  }

  void skipBlanks() {
    while (pos_ < text_.size() && isBlank(text_[pos_])) {
      ++pos_;
    }
  }

  bool atTopLevel() const { return stack_.size() == 1; }

  Status step();
  Status key();
  Status value();
  Status afterValue();
  Status string(std::string* decoded);
  Status escape(std::string* decoded);
  Status unicodeEscape(std::string* decoded);
  Status hex4(uint32_t* code);
  Status number();
  Status literal(std::string_view word);
  std::optional<std::string>* fieldFor(std::string_view name);

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<char> stack_;
  Expect expect_ = Expect::Value;
  FrameFields fields_;
  // The field that the current top-level member's value goes to, if it is one we read.
  std::optional<std::string>* target_ = nullptr;
};

Result<FrameFields> Scanner::run() {
  skipBlanks();
  if (pos_ >= text_.size() || text_[pos_] != '{') {
    return fail("not an object");
  }
  do {
    Status status = step();
    if (!status.isOk()) {
      return status;
    }
  } while (!stack_.empty() || expect_ != Expect::AfterValue);
  skipBlanks();
  if (pos_ != text_.size()) {
    return fail("data after the object");
  }
  return std::move(fields_);
}

// Reads the next token for the current state.
Status Scanner::step() {
  skipBlanks();
  if (pos_ >= text_.size()) {
    return fail("unexpected end");
  }
  switch (expect_) {
    case Expect::FirstKey:
      if (text_[pos_] == '}') {
        ++pos_;
        stack_.pop_back();
        expect_ = Expect::AfterValue;
        return Status::ok();
      }
      return key();
    case Expect::Key:
      return key();
    case Expect::FirstValue:
      if (text_[pos_] == ']') {
        ++pos_;
        stack_.pop_back();
        expect_ = Expect::AfterValue;
        return Status::ok();
      }
      return value();
    case Expect::Value:
      return value();
    case Expect::AfterValue:
      return afterValue();
  }
  return fail("scanner state");
}

// A member name and its colon; top-level names pick the field the value goes to.
Status Scanner::key() {
  if (text_[pos_] != '"') {
    return fail("expected a member name");
  }
  std::string name;
  Status status = string(atTopLevel() ? &name : nullptr);
  if (!status.isOk()) {
    return status;
  }
  if (atTopLevel()) {
    ++fields_.member_count;
    target_ = fieldFor(name);
  }
  skipBlanks();
  if (pos_ >= text_.size() || text_[pos_] != ':') {
    return fail("expected ':'");
  }
  ++pos_;
  expect_ = Expect::Value;
  return Status::ok();
}

std::optional<std::string>* Scanner::fieldFor(std::string_view name) {
  if (name == "guid") {
    return &fields_.guid;
  }
  if (name == "type") {
    return &fields_.type;
  }
  if (name == "acknowledgedBy") {
    return &fields_.acknowledged_by;
  }
  if (name == "blobKey") {
    return &fields_.blob_key;
  }
  return nullptr;
}

Status Scanner::value() {
  // A later repeat of a read member replaces the earlier value, even with a non-string.
  std::optional<std::string>* target = atTopLevel() ? target_ : nullptr;
  if (target != nullptr) {
    target->reset();
  }
  char c = text_[pos_];
  expect_ = Expect::AfterValue;
  if (c == '{' || c == '[') {
    ++pos_;
    stack_.push_back(c);
    expect_ = c == '{' ? Expect::FirstKey : Expect::FirstValue;
    return Status::ok();
  }
  if (c == '"') {
    if (target == nullptr) {
      return string(nullptr);
    }
    std::string decoded;
    Status status = string(&decoded);
    *target = std::move(decoded);
    return status;
  }
  if (c == '-' || isDigit(c)) {
    return number();
  }
  if (c == 't') {
    return literal("true");
  }
  if (c == 'f') {
    return literal("false");
  }
  if (c == 'n') {
    return literal("null");
  }
  return fail("expected a value");
}

Status Scanner::afterValue() {
  char c = text_[pos_];
  char open = stack_.back();
  if (c == ',') {
    ++pos_;
    expect_ = open == '{' ? Expect::Key : Expect::Value;
    return Status::ok();
  }
  if ((c == '}' && open == '{') || (c == ']' && open == '[')) {
    ++pos_;
    stack_.pop_back();
    return Status::ok();
  }
  return fail("expected ',' or a closing bracket");
}

// A string literal starting at the quote; decoded into `decoded` unless it is null.
Status Scanner::string(std::string* decoded) {
  ++pos_;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      return Status::ok();
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      return fail("control character in a string");
    }
    if (c == '\\') {
      Status status = escape(decoded);
      if (!status.isOk()) {
        return status;
      }
      continue;
    }
    if (decoded != nullptr) {
      decoded->push_back(c);
    }
    ++pos_;
  }
  return fail("unterminated string");
}

Status Scanner::escape(std::string* decoded) {
  if (pos_ + 1 >= text_.size()) {
    return fail("unterminated escape");
  }
  char c = text_[pos_ + 1];
  if (c == 'u') {
    return unicodeEscape(decoded);
  }
  char plain;
  switch (c) {
    case '"':
    case '\\':
    case '/':
      plain = c;
      break;
    case 'b':
      plain = '\b';
      break;
    case 'f':
      plain = '\f';
      break;
    case 'n':
      plain = '\n';
      break;
    case 'r':
      plain = '\r';
      break;
    case 't':
      plain = '\t';
      break;
    default:
      return fail("unknown escape");
  }
  if (decoded != nullptr) {
    decoded->push_back(plain);
  }
  pos_ += 2;
  return Status::ok();
}

// \uXXXX, with a following low surrogate joined to a high one; an unpaired surrogate decodes
// as U+FFFD, as permissive parsers do.
Status Scanner::unicodeEscape(std::string* decoded) {
  pos_ += 2;
  uint32_t code = 0;
  Status status = hex4(&code);
  if (!status.isOk()) {
    return status;
  }
  bool high = code >= 0xD800 && code <= 0xDBFF;
  if (high && text_.substr(pos_, 2) == "\\u") {
    size_t before = pos_;
    pos_ += 2;
    uint32_t low = 0;
    status = hex4(&low);
    if (!status.isOk()) {
      return status;
    }
    if (low >= 0xDC00 && low <= 0xDFFF) {
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else {
      pos_ = before;
    }
  }
  if (code >= 0xD800 && code <= 0xDFFF) {
    code = 0xFFFD;
  }
  if (decoded != nullptr) {
    appendUtf8(decoded, code);
  }
  return Status::ok();
}

Status Scanner::hex4(uint32_t* code) {
  if (pos_ + 4 > text_.size()) {
    return fail("short \\u escape");
  }
  for (int i = 0; i < 4; ++i) {
    int digit = hexValue(text_[pos_ + i]);
    if (digit < 0) {
      return fail("bad \\u escape");
    }
    *code = (*code << 4) | static_cast<uint32_t>(digit);
  }
  pos_ += 4;
  return Status::ok();
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
Status Scanner::number() {
  auto digits = [this] {
    size_t start = pos_;
    while (pos_ < text_.size() && isDigit(text_[pos_])) {
      ++pos_;
    }
    return pos_ - start;
  };
  if (text_[pos_] == '-') {
    ++pos_;
  }
  size_t start = pos_;
  size_t integer = digits();
  if (integer == 0 || (integer > 1 && text_[start] == '0')) {
    return fail("bad number");
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (digits() == 0) {
      return fail("bad number");
    }
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
      ++pos_;
    }
    if (digits() == 0) {
      return fail("bad number");
    }
  }
  return Status::ok();
}

Status Scanner::literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) {
    return fail("bad literal");
  }
  pos_ += word.size();
  return Status::ok();
}

}  // namespace

Result<FrameFields> scanFrameFields(std::string_view text) {
  return Scanner(text).run();
}

}  // namespace cex
