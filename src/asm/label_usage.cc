#include "asm/label_usage.h"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asm/asm_classify.h"

namespace cex {

namespace {

constexpr uint32_t kNoIndex = UINT32_MAX;
constexpr size_t kNoOffset = SIZE_MAX;

// The first pass as a small state machine fed one line at a time.
class UsageScanner {
 public:
  UsageScanner(const ListingLines& lines, ListingScan* scan, bool filter_directives,
               bool dollar_labels)
      : lines_(lines),
        scan_(scan),
        filter_directives_(filter_directives),
        dollar_labels_(dollar_labels) {}

  // Takes the next line, which starts at `offset`; the line after it starts at `next`.
  void feed(std::string_view line, size_t offset, size_t next, size_t readable);

  // Whether a "$name:" line was seen while scanning without '$' as a symbol start; the
  // listing must then be scanned again with it.
  bool needsDollarLabels() const { return saw_dollar_label_ && !dollar_labels_; }

  // Ends the pass: drops a quiet run of one line and resolves weak uses.
  void finish();

  // Marks everything reachable through weak uses from the labels used so far.
  void resolveWeakUses();

 private:
  // Consecutive label lines and the lines after them, up to the next label or section
  // switch. Data lines outside functions in a group are used only if one of its labels is;
  // the group keeps the span of lines holding them, which the resolution reads again, rather
  // than every symbol they mention.
  struct Group {
    uint32_t first_label = 0;  // index into group_labels_
    uint32_t label_count = 0;
    size_t data_begin = kNoOffset;  // offset of the first data line
    size_t data_end = 0;            // where the line after the last data line starts
    bool expanded = false;
  };

  void trackQuietRun(bool quiet, size_t offset, size_t next) {
    if (!quiet) {
      closeQuietRun();
      return;
    }
    if (quiet_run_lines_++ == 0) {
      quiet_run_.begin = offset;
    }
    quiet_run_.end = next;
  }

  void closeQuietRun();
  void trackBlocks(std::string_view line, const LineHead& head, const BlockMarks& marks);
  void trackLabelGroup(std::string_view line);
  void recordRareLine(std::string_view line, size_t offset, const BlockMarks& marks);
  void trackAssignment(std::string_view line);
  void trackDeclarations(std::string_view line, const LineHead& head);
  void recordDefinitions(std::string_view line, const LineHead& head, const BlockMarks& marks);
  void trackUses(std::string_view line, const LineHead& head, const BlockMarks& marks,
                 size_t offset, size_t next);
  void addWeakLine(size_t offset, size_t next);
  void markUsedFrom(std::string_view line);
  void expandGroup(Group* group, std::vector<std::string_view>* pending);

  const ListingLines& lines_;
  ListingScan* scan_;
  bool filter_directives_;
  bool dollar_labels_;
  bool saw_dollar_label_ = false;
  int custom_asm_depth_ = 0;
  bool in_function_ = false;
  bool in_nvcc_code_ = false;
  bool in_label_group_ = false;
  // The current run of quiet directives and its length so far.
  LineSpan quiet_run_;
  size_t quiet_run_lines_ = 0;
  // The labels of the current group; data lines after a section switch belong to none.
  std::vector<std::string_view> current_labels_;
  bool group_open_ = false;
  // Whether groups_.back() is the current group (groups are recorded once they hold data).
  bool current_recorded_ = false;
  std::vector<std::string_view> group_labels_;
  std::vector<Group> groups_;
  // A ".set X, ." seen before the current label group: X is an alias of those labels.
  std::string_view defining_alias_;
  std::vector<std::pair<std::string_view, std::string_view>> alias_uses_;
};

void UsageScanner::feed(std::string_view line, size_t offset, size_t next, size_t readable) {
  BlockMarks marks = blockMarks(line, readable);
  recordRareLine(line, offset, marks);
  // Taking away a label's indent (below) leaves the head as it is.
  LineHead head = lineHead(line);
  trackQuietRun(isQuietDirective(line, head, marks), offset, next);
  trackBlocks(line, head, marks);
  if (custom_asm_depth_ > 0) {
    line = fixLabelIndentation(line);
  }
  trackLabelGroup(line);
  if (marks.equals) {
    trackAssignment(line);
  }
  trackDeclarations(line, head);
  if (scan_->records_definitions) {
    recordDefinitions(line, head, marks);
  }
  trackUses(line, head, marks, offset, next);
}

void UsageScanner::recordRareLine(std::string_view line, size_t offset, const BlockMarks& marks) {
  if (marks.inst) {
    scan_->inst_lines.push_back(offset);
  }
  if (marks.equals) {
    scan_->equals_lines.push_back(offset);
  }
  if (marks.blockEnd()) {
    scan_->block_ends.push_back(offset);
    // Data after a section switch does not belong to the labels before it.
    group_open_ = false;
  }
  saw_dollar_label_ |= isDollarLabelLine(line);
}

void UsageScanner::closeQuietRun() {
  // A single line is not worth an entry.
  if (quiet_run_lines_ >= 2) {
    scan_->quiet_runs.push_back(quiet_run_);
  }
  quiet_run_lines_ = 0;
}

void UsageScanner::trackAssignment(std::string_view line) {
  // "x = 5" stays defined whether used or not ("x = ." is a label like any other).
  auto assignment = matchAssignment(line);
  if (assignment && !matchLabelDef(line) && trimBlanks(assignment->value) != ".") {
    scan_->kept_definitions.insert(assignment->name);
  }
}

void UsageScanner::trackBlocks(std::string_view line, const LineHead& head,
                               const BlockMarks& marks) {
  switch (head.first == '#' ? appBlockMark(line) : AppBlockMark::None) {
    case AppBlockMark::Begin:
      ++custom_asm_depth_;
      return;
    case AppBlockMark::End:
      --custom_asm_depth_;
      return;
    case AppBlockMark::None:
      break;
  }
  if (marks.start_proc) {
    in_function_ = true;
  } else if (marks.end_proc) {
    in_function_ = false;
  } else if (matchCudaBegin(line)) {
    in_nvcc_code_ = true;
  }
}

void UsageScanner::trackLabelGroup(std::string_view line) {
  auto def = matchLabelDef(line);
  if (!def) {
    if (in_label_group_) {
      in_label_group_ = false;
      defining_alias_ = {};
    }
    return;
  }
  if (def->end != line.size()) {
    scan_->kept_definitions.insert(def->name);
  }
  if (!in_label_group_) {
    current_labels_.clear();
    group_open_ = true;
    current_recorded_ = false;
  }
  current_labels_.push_back(def->name);
  in_label_group_ = true;
  if (!defining_alias_.empty()) {
    alias_uses_.emplace_back(defining_alias_, def->name);
  }
}

// Declarations: source files are recorded, .globl/.weak names are used and ".set X, ."
// starts an alias. The directive name picks the matchers worth trying.
void UsageScanner::trackDeclarations(std::string_view line, const LineHead& head) {
  char kind = head.directive.empty() ? '\0' : head.directive[0];
  if (kind == 'f' || kind == 'c') {
    scan_->files.addIfFileDirective(line);
  }
  std::optional<std::string_view> name;
  if (kind == 'g' || kind == 'G' || kind == 'e' || kind == 'w') {
    name = matchGlobalOrWeak(line);
  }
  if (name) {
    scan_->used.insert(*name);
  } else if (auto cuda = matchCudaBegin(line)) {
    // The reference records the keyword here, not the kernel's name.
    scan_->used.insert(cuda->keyword);
  }
  if (kind == 's') {
    if (auto alias = matchAlias(line)) {
      defining_alias_ = *alias;
    }
  }
}

// Every name the second pass may define on this line (see TextAsmParser::findDefinition), and
// perhaps a few more.
void UsageScanner::recordDefinitions(std::string_view line, const LineHead& head,
                                     const BlockMarks& marks) {
  SymbolSet& definitions = scan_->definitions;
  if (auto def = matchLabelDef(line)) {
    definitions.insert(def->name);
  }
  if (marks.equals) {
    if (auto assignment = matchAssignment(line)) {
      definitions.insert(assignment->name);
    }
  }
  if (hasPrefixAt(head.directive, 0, "set")) {
    if (auto name = matchSetDef(line)) {
      definitions.insert(*name);
    }
  }
  if (auto cuda = matchCudaBegin(line)) {
    definitions.insert(cuda->keyword);
  }
}

void UsageScanner::trackUses(std::string_view line, const LineHead& head, const BlockMarks& marks,
                             size_t offset, size_t next) {
  bool is_directive = head.first == '.';
  char kind = head.directive.empty() ? '\0' : head.directive[0];
  bool function_type = (kind == 't' || kind == 'p') && definesFunction(line);
  // Directives at column 0 (.file, .section, ...) use nothing.
  if (!function_type && (line.empty() || line[0] == '.')) {
    return;
  }
  // A directive is an instruction only through ".inst", which the block scan has seen.
  bool opcode =
      is_directive ? marks.inst && hasOpcode(line, in_nvcc_code_) : hasOpcode(line, in_nvcc_code_);
  if (!filter_directives_ || function_type || opcode) {
    markUsedFrom(line);
    return;
  }
  if (!is_directive || !isDataDirectiveName(head.directive)) {
    return;
  }
  // Data inside a function (jump tables, ARM literal pools) is used by the code around it;
  // data elsewhere is used only if the label it sits under is.
  if (in_function_) {
    markUsedFrom(line);
  } else {
    addWeakLine(offset, next);
  }
}

void UsageScanner::markUsedFrom(std::string_view line) {
  forEachSymbolToken(line, dollar_labels_,
                     [&](std::string_view token) { scan_->used.insert(token); });
}

void UsageScanner::addWeakLine(size_t offset, size_t next) {
  if (!group_open_ || current_labels_.empty()) {
    return;
  }
  // Most label groups never hold data; record a group only when it does.
  if (!current_recorded_) {
    groups_.push_back(Group{static_cast<uint32_t>(group_labels_.size()),
                            static_cast<uint32_t>(current_labels_.size())});
    group_labels_.insert(group_labels_.end(), current_labels_.begin(), current_labels_.end());
    current_recorded_ = true;
  }
  Group& group = groups_.back();
  if (group.data_begin == kNoOffset) {
    group.data_begin = offset;
  }
  group.data_end = next;
}

void UsageScanner::expandGroup(Group* group, std::vector<std::string_view>* pending) {
  group->expanded = true;
  // The span also holds lines that were not weak data (comments, other directives, code);
  // only data lines that do not start at column 0 contribute, as in the scan.
  ListingReader reader(lines_, group->data_begin, group->data_end);
  std::string_view line;
  while (reader.next(&line)) {
    if (line.empty() || line[0] == '.' || !isDataDefinition(line)) {
      continue;
    }
    forEachSymbolToken(line, dollar_labels_, [&](std::string_view token) {
      if (scan_->used.insert(token)) {
        pending->push_back(token);
      }
    });
  }
}

void UsageScanner::resolveWeakUses() {
  // Index the groups that hold weak data by their labels: first occurrence of each name,
  // then a chain through the other occurrences.
  SymbolMap<uint32_t> first;
  std::vector<uint32_t> next(group_labels_.size(), kNoIndex);
  std::vector<uint32_t> group_of(group_labels_.size(), kNoIndex);
  for (uint32_t g = 0; g < groups_.size(); ++g) {
    const Group& group = groups_[g];
    for (uint32_t i = group.first_label; i < group.first_label + group.label_count; ++i) {
      group_of[i] = g;
      std::string_view label = group_labels_[i];
      auto [latest, inserted] = first.tryEmplace(label, SymbolSet::hashOf(label), i);
      if (!inserted) {
        next[i] = *latest;
        *latest = i;
      }
    }
  }
  std::unordered_multimap<std::string_view, std::string_view> aliases(alias_uses_.begin(),
                                                                      alias_uses_.end());

  std::vector<std::string_view> pending;
  scan_->used.forEach([&](std::string_view name) { pending.push_back(name); });
  while (!pending.empty()) {
    std::string_view name = pending.back();
    pending.pop_back();
    auto [alias_begin, alias_end] = aliases.equal_range(name);
    for (auto it = alias_begin; it != alias_end; ++it) {
      if (scan_->used.insert(it->second)) {
        pending.push_back(it->second);
      }
    }
    const uint32_t* latest = first.find(name, SymbolSet::hashOf(name));
    for (uint32_t i = latest == nullptr ? kNoIndex : *latest; i != kNoIndex; i = next[i]) {
      Group& group = groups_[group_of[i]];
      if (!group.expanded) {
        expandGroup(&group, &pending);
      }
    }
  }
}

void UsageScanner::finish() {
  closeQuietRun();
  resolveWeakUses();
}

}  // namespace

ListingScan scanListing(const ListingLines& lines, bool filter_directives) {
  // '$' starts symbols only in listings with "$name:" labels (MIPS), which are rare: scan
  // without it and again with it if such a label turns up.
  for (bool dollar_labels : {false, true}) {
    ListingScan scan;
    scan.records_definitions = !filter_directives;
    UsageScanner scanner(lines, &scan, filter_directives, dollar_labels);
    ListingReader reader(lines);
    std::string_view line;
    while (reader.next(&line)) {
      ++scan.line_count;
      scanner.feed(line, reader.offset(), reader.position(), reader.readable());
    }
    if (!scanner.needsDollarLabels()) {
      scanner.finish();
      return scan;
    }
  }
  return {};
}

}  // namespace cex
