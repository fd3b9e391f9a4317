#include "asm/text_parser.h"

#include <algorithm>

#include "asm/asm_text.h"
#include "asm/source_map.h"

namespace cex {

TextAsmParser::TextAsmParser(std::string_view listing, const AsmFilters& filters)
    : lines_(listing, filters.comment_only),
      filters_(filters),
      drop_directives_quickly_(filters.directives && !filters.library_code) {}

ParsedAsm TextAsmParser::parse() {
  scan_ = scanListing(lines_, filters_.directives);
  // Without the directives filter nearly every line stays: room for all of them at once spares
  // regrowing (and briefly holding twice) a vector of millions of lines. With it most go.
  if (!filters_.directives) {
    result_.lines.reserve(static_cast<size_t>(scan_.line_count));
  }
  block_end_cursor_.emplace(scan_.block_ends);
  inst_cursor_.emplace(scan_.inst_lines);
  equals_cursor_.emplace(scan_.equals_lines);
  quiet_run_ = scan_.quiet_runs.begin();
  ListingReader reader(lines_);
  std::string_view line;
  while (reader.next(&line)) {
    if (size_t end = quietRunEnd(reader.offset()); end != 0) {
      reader.skipTo(end);
      continue;
    }
    processLine(line, reader.offset(), reader.position());
  }
  finish();
  result_.filtered_count = scan_.line_count - static_cast<int64_t>(result_.lines.size());
  return std::move(result_);
}

void TextAsmParser::processLine(std::string_view line, size_t offset, size_t next_line_pos) {
  // Most classifiers apply to lines starting with one particular character; `first` lets
  // each step skip the ones that cannot match.
  LineHead head = lineHead(line);
  if (head.first == '\0') {
    maybeAddBlank();
    return;
  }
  bool block_end = block_end_cursor_->contains(offset);
  if (head.first == '.' && isBlankChar(line[0]) &&
      dropsPlainDirective(line, head, offset, block_end)) {
    return;
  }
  updateState(line, head, block_end);
  if (skipLibraryCode() || skipCommentOnly(line, head.first)) {
    return;
  }
  if (custom_asm_depth_ > 0) {
    line = fixLabelIndentation(line);
  }
  if (skipDebugCall(line, head.first)) {
    return;
  }
  LabelStep step = handleLabel(line, head, equals_cursor_->contains(offset), next_line_pos);
  if (step.drop || skipDirective(line, head, step, inst_cursor_->contains(offset))) {
    return;
  }
  emit(line, step.is_label);
}

size_t TextAsmParser::quietRunEnd(size_t offset) {
  auto& runs = scan_.quiet_runs;
  while (quiet_run_ != runs.end() && quiet_run_->begin < offset) {
    ++quiet_run_;
  }
  if (quiet_run_ == runs.end() || quiet_run_->begin != offset) {
    return 0;
  }
  // The state in which dropsPlainDirective drops each line of the run, none of which changes
  // it; with a label open, data in the run stays and the lines go one by one.
  bool skip = drop_directives_quickly_ && !in_nvcc_def_ && !in_nvcc_code_ &&
              custom_asm_depth_ == 0 && prev_label_.empty();
  return skip ? quiet_run_->end : 0;
}

bool TextAsmParser::dropsPlainDirective(std::string_view line, const LineHead& head, size_t offset,
                                        bool block_end) {
  // Whatever the state, these go through the general steps: block ends, CUDA and inline
  // assembly regions, CUDA definitions, .set names and aliases, and data under a label.
  if (!drop_directives_quickly_ || block_end || in_nvcc_def_ || in_nvcc_code_ ||
      custom_asm_depth_ > 0 || line.back() == '(' || hasPrefixAt(head.directive, 0, "set")) {
    return false;
  }
  if (!prev_label_.empty() && isDataDirectiveName(head.directive)) {
    return false;
  }
  // Assignments and instructions given as data are not plain directives either.
  if (equals_cursor_->contains(offset) || inst_cursor_->contains(offset)) {
    return false;
  }
  if (isSourceDirectiveName(head.directive)) {
    applySourceDirective(line);
  }
  return true;
}

void TextAsmParser::updateState(std::string_view line, const LineHead& head, bool block_end) {
  AppBlockMark mark = head.first == '#' ? appBlockMark(line) : AppBlockMark::None;
  if (mark == AppBlockMark::Begin) {
    ++custom_asm_depth_;
  } else if (mark == AppBlockMark::End) {
    --custom_asm_depth_;
  }

  if (isSourceDirectiveName(head.directive)) {
    applySourceDirective(line);
  }
  if (source_ && (!source_->file || source_->mainsource.value_or(false))) {
    seen_own_source_ = true;
  }

  // A block end forgets the source and the label data would belong to.
  if (block_end || (in_nvcc_code_ && line.find('}') != std::string_view::npos)) {
    source_.reset();
    prev_label_ = {};
    seen_own_source_ = false;
  }
}

void TextAsmParser::applySourceDirective(std::string_view line) {
  SourceDirective directive = parseSourceDirective(line, scan_.files, filters_.dont_mask_filenames);
  if (directive.effect == SourceEffect::Set) {
    source_ = std::move(directive.source);
  } else if (directive.effect == SourceEffect::Clear) {
    source_.reset();
  }
  if (directive.resets_prev_label) {
    prev_label_ = {};
  }
}

bool TextAsmParser::skipLibraryCode() {
  bool library = filters_.library_code && !prev_label_is_user_function_ && !seen_own_source_ &&
                 source_ && source_->file && !source_->mainsource.value_or(false);
  if (!library) {
    may_remove_previous_label_ = true;
    return false;
  }
  // Entering library code: a label just emitted for it would be left dangling, so it goes;
  // if real code came before, the library lines are inlined into it and stay.
  if (may_remove_previous_label_ && !result_.lines.empty()) {
    const std::string& last = result_.lines.back().text;
    auto def = last.empty() ? std::nullopt : matchLabelDef(last);
    if (def) {
      undefineLabel(def->name);
      result_.lines.pop_back();
      keep_inline_code_ = false;
    } else {
      keep_inline_code_ = true;
    }
    may_remove_previous_label_ = false;
  }
  return !keep_inline_code_;
}

bool TextAsmParser::skipCommentOnly(std::string_view line, char first) const {
  bool comment_start = first == '#' || first == '@' || first == '/' || first == ';';
  if (!filters_.comment_only || !comment_start || matchLabelDef(line)) {
    return false;
  }
  return in_nvcc_code_ ? isCommentOnlyNvcc(line) : isCommentOnly(line);
}

bool TextAsmParser::skipDebugCall(std::string_view line, char first) const {
  if (!filters_.debug_calls || (first != 'c' && first != 't' && first != '#')) {
    return false;
  }
  // Calls of LLVM's debug intrinsics and the records that replace them in newer IR.
  std::string_view code = line.substr(skipBlanks(line, 0));
  if (hasPrefixAt(code, 0, "tail ")) {
    code = code.substr(skipBlanks(code, 5));
  }
  return hasPrefixAt(code, 0, "call void @llvm.dbg.") || hasPrefixAt(code, 0, "#dbg_");
}

std::optional<TextAsmParser::Definition> TextAsmParser::findDefinition(std::string_view line,
                                                                       const LineHead& head,
                                                                       bool has_equals) const {
  // Only a label alone on its line (or "x = .") may be dropped; "1: call mcount" or
  // "foo: # comment" always stay.
  if (auto def = matchLabelDef(line)) {
    return Definition{def->name, def->end == line.size(), DefinitionKind::Label};
  }
  if (has_equals && (isSymbolStart(head.first) || head.first == '$')) {
    if (auto assignment = matchAssignment(line)) {
      return Definition{assignment->name, trimBlanks(assignment->value) == ".",
                        DefinitionKind::Label};
    }
  }
  if (head.directive == "set") {
    if (auto set_name = matchSetDef(line)) {
      return Definition{*set_name, true, DefinitionKind::SetName};
    }
  }
  if (auto cuda = matchCudaBegin(line)) {
    return Definition{cuda->keyword, false, DefinitionKind::CudaFunction};
  }
  return std::nullopt;
}

TextAsmParser::LabelStep TextAsmParser::handleLabel(std::string_view line, const LineHead& head,
                                                    bool has_equals, size_t next_line_pos) {
  LabelStep step;
  auto def = findDefinition(line, head, has_equals);
  if (!def) {
    return step;
  }
  if (def->kind == DefinitionKind::CudaFunction) {
    in_nvcc_def_ = true;
    in_nvcc_code_ = true;
  }
  step.is_set_def = def->kind == DefinitionKind::SetName;
  step.is_label = !step.is_set_def;

  uint64_t hash = SymbolSet::hashOf(def->name);
  if (def->droppable && !scan_.used.contains(def->name, hash)) {
    if (filters_.labels) {
      prev_label_ = {};
      step.drop = true;
    }
    return step;
  }
  defineLabel(def->name, hash);
  if (step.is_set_def) {
    return step;
  }
  // Data lines that follow belong to this label; library code is judged by its function.
  prev_label_ = def->name;
  if (!in_nvcc_def_ && !in_nvcc_code_ && filters_.library_code) {
    prev_label_is_user_function_ = isUserFunctionFrom(next_line_pos);
  }
  return step;
}

bool TextAsmParser::skipDirective(std::string_view line, const LineHead& head,
                                  const LabelStep& step, bool has_inst) {
  if (in_nvcc_def_) {
    if (isCudaEnd(line)) {
      in_nvcc_def_ = false;
    }
    return false;
  }
  if (step.is_label || step.is_set_def || !filters_.directives || head.first != '.') {
    return false;
  }
  // Data right after a used label is what that label names (.LC0: .string "hi").
  if (!prev_label_.empty() && isDataDirectiveName(head.directive)) {
    return false;
  }
  return !has_inst && !(hasPrefixAt(head.directive, 0, "set") && matchAlias(line));
}

void TextAsmParser::emit(std::string_view line, bool is_label) {
  scratch_.clear();
  appendExpandedTabs(line, &scratch_);
  AsmLine& out = result_.lines.emplace_back();
  if (filters_.trim) {
    appendSquashedWhitespace(scratch_, &out.text);
  } else {
    // Copy-constructed, the text gets an allocation of its own size; assigned, it would get
    // up to twice that, in every line of the result.
    out.text = std::string(scratch_);
  }
  if (source_ && hasOpcode(scratch_, in_nvcc_code_)) {
    out.source = source_;
  }
  if (!is_label) {
    addLabelRefs(&out);
  }
}

void TextAsmParser::addLabelRefs(AsmLine* out) {
  // Only names that may be defined can end up in labelDefinitions; anything else (registers,
  // mnemonics, constants) would be dropped at the end anyway.
  collectOperandRefs(out->text, &refs_);
  std::erase_if(refs_, [&](const OperandRef& ref) { return !mayBeDefined(ref.target); });
  if (refs_.empty()) {
    return;
  }
  out->labels.reserve(refs_.size());

  // References come left to right, so the UTF-16 column is counted on from the last one.
  std::string_view text = out->text;
  size_t counted = 0;
  int column = 1;
  for (const OperandRef& ref : refs_) {
    column += static_cast<int>(utf16Length(text.substr(counted, ref.start - counted)));
    counted = ref.start;
    AsmLabelRef& label = out->labels.emplace_back();
    label.name = std::string(ref.name);
    if (ref.target.size() != ref.name.size()) {
      label.target = std::string(ref.target);
    }
    label.start_col = column;
    label.end_col = column + static_cast<int>(utf16Length(ref.name));
  }
}

bool TextAsmParser::mayBeDefined(std::string_view name) const {
  uint64_t hash = SymbolSet::hashOf(name);
  if (scan_.records_definitions) {
    return scan_.definitions.contains(name, hash);
  }
  return scan_.used.contains(name, hash) || scan_.kept_definitions.contains(name, hash);
}

void TextAsmParser::maybeAddBlank() {
  if (!result_.lines.empty() && !result_.lines.back().text.empty()) {
    result_.lines.emplace_back();
  }
}

void TextAsmParser::defineLabel(std::string_view name, uint64_t hash) {
  int index = static_cast<int>(result_.lines.size()) + 1;
  auto slot = static_cast<uint32_t>(result_.label_definitions.size());
  auto [existing, inserted] = label_slots_.tryEmplace(name, hash, slot);
  if (inserted) {
    result_.label_definitions.emplace_back(std::string(name), index);
  } else {
    result_.label_definitions[*existing].second = index;
  }
}

void TextAsmParser::undefineLabel(std::string_view name) {
  uint64_t hash = SymbolSet::hashOf(name);
  if (const uint32_t* slot = label_slots_.find(name, hash)) {
    result_.label_definitions[*slot].second = 0;
    label_slots_.erase(name, hash);
  }
}

bool TextAsmParser::isUserFunctionFrom(size_t pos) {
  if (look_ahead_.valid && pos >= look_ahead_.start && pos <= look_ahead_.end) {
    return look_ahead_.user;
  }
  // Scan to the end of the block for a location in the user's own file.
  auto block_end = std::lower_bound(scan_.block_ends.begin(), scan_.block_ends.end(), pos);
  size_t end = block_end == scan_.block_ends.end() ? lines_.listing().size() : *block_end;
  ListingReader reader(lines_, pos, end);
  std::string_view line;
  bool user = false;
  while (reader.next(&line)) {
    SourceDirective directive = parseSourceDirective(line, scan_.files, true);
    if (directive.effect == SourceEffect::Set && directive.source.mainsource.value_or(false)) {
      user = true;
      end = reader.offset();
      break;
    }
  }
  look_ahead_ = LookAhead{pos, end, user, true};
  return user;
}

void TextAsmParser::finish() {
  // Drop removed definitions, then references to labels that are not defined in the output.
  auto& defs = result_.label_definitions;
  defs.erase(std::remove_if(defs.begin(), defs.end(), [](const auto& d) { return d.second == 0; }),
             defs.end());
  for (AsmLine& line : result_.lines) {
    std::erase_if(line.labels, [&](const AsmLabelRef& ref) {
      std::string_view name = ref.target ? *ref.target : ref.name;
      return label_slots_.find(name, SymbolSet::hashOf(name)) == nullptr;
    });
  }
}

}  // namespace cex
