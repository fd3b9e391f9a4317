#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asm/asm_classify.h"
#include "asm/asm_result.h"
#include "asm/label_usage.h"
#include "asm/line_reader.h"
#include "asm/symbol_set.h"

namespace cex {

// The second pass over a GNU-style listing: decides line by line what the filters keep,
// tracks the current source location and records label definitions. One instance parses one
// listing; `listing` must outlive it. With the commentOnly filter, block comments that open a
// line are skipped as the lines are read (see ListingLines).
class TextAsmParser {
 public:
  TextAsmParser(std::string_view listing, const AsmFilters& filters);

  ParsedAsm parse();

 private:
  // How the label step classified a line.
  struct LabelStep {
    bool is_label = false;    // a label definition (no operand references, never a directive)
    bool is_set_def = false;  // ".set a, b": defines a but reads like an ordinary line
    bool drop = false;        // an unused label the labels filter removes
  };

  enum class DefinitionKind {
    Label,         // "name:" or "name = value"
    SetName,       // ".set name, other"
    CudaFunction,  // ".entry name(" (the reference names it by its keyword)
  };

  // A line that defines a name, and whether the labels filter may drop it when unused.
  struct Definition {
    std::string_view name;
    bool droppable = false;
    DefinitionKind kind = DefinitionKind::Label;
  };

  void processLine(std::string_view line, size_t offset, size_t next_line_pos);
  // Where the quiet run (see ListingScan) starting at `offset` ends, when it starts there and
  // may be skipped whole; 0 otherwise. Offsets must be asked in ascending order.
  size_t quietRunEnd(size_t offset);
  // Drops an indented directive that the directives filter removes with no other effect than
  // a change of source (most lines of a listing); false when the general steps must decide.
  // The label step cannot match such a line, and the library filter, which tracks state on
  // every line, must be off.
  bool dropsPlainDirective(std::string_view line, const LineHead& head, size_t offset,
                           bool block_end);
  void updateState(std::string_view line, const LineHead& head, bool block_end);
  void applySourceDirective(std::string_view line);
  bool skipLibraryCode();
  bool skipCommentOnly(std::string_view line, char first) const;
  bool skipDebugCall(std::string_view line, char first) const;
  std::optional<Definition> findDefinition(std::string_view line, const LineHead& head,
                                           bool has_equals) const;
  LabelStep handleLabel(std::string_view line, const LineHead& head, bool has_equals,
                        size_t next_line_pos);
  bool skipDirective(std::string_view line, const LineHead& head, const LabelStep& step,
                     bool has_inst);
  void emit(std::string_view line, bool is_label);
  void addLabelRefs(AsmLine* out);
  // Whether `name` may end up in labelDefinitions (see ListingScan).
  bool mayBeDefined(std::string_view name) const;
  void maybeAddBlank();

  void defineLabel(std::string_view name, uint64_t hash);
  void undefineLabel(std::string_view name);
  bool isUserFunctionFrom(size_t pos);
  void finish();

  ListingLines lines_;
  const AsmFilters& filters_;
  // Whether dropsPlainDirective may act (the directives filter on, the library filter off).
  bool drop_directives_quickly_;
  ListingScan scan_;
  ParsedAsm result_;

  std::optional<AsmSource> source_;
  // A source of the user's own file was seen since the last block end.
  bool seen_own_source_ = false;
  // The label that data lines may belong to; empty after block ends and dropped labels.
  std::string_view prev_label_;
  bool prev_label_is_user_function_ = false;
  bool may_remove_previous_label_ = true;
  bool keep_inline_code_ = false;
  bool in_nvcc_def_ = false;
  bool in_nvcc_code_ = false;
  int custom_asm_depth_ = 0;

  // Label name -> slot in result_.label_definitions (slots of removed labels hold index 0).
  SymbolMap<uint32_t> label_slots_;

  // The last look-ahead for user code: its answer holds for any start in [start, end].
  struct LookAhead {
    size_t start = 0;
    size_t end = 0;
    bool user = false;
    bool valid = false;
  };

  LookAhead look_ahead_;

  // The next quiet run that may start at or after the current line.
  std::vector<LineSpan>::const_iterator quiet_run_;

  // Rare lines found by the first pass, walked in step with this one.
  std::optional<OffsetCursor> block_end_cursor_;
  std::optional<OffsetCursor> inst_cursor_;
  std::optional<OffsetCursor> equals_cursor_;

  std::string scratch_;
  std::vector<OperandRef> refs_;
};

}  // namespace cex
