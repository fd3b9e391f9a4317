#include "asm/label_usage.h"

#include <unordered_map>
#include <utility>
#include <vector>

#include "asm/asm_classify.h"
#include "asm/line_reader.h"

namespace cex {

namespace {

// The first pass as a small state machine fed one line at a time.
class UsageScanner {
 public:
  UsageScanner(ListingScan* scan, bool filter_directives, bool dollar_labels)
      : scan_(scan), filter_directives_(filter_directives), dollar_labels_(dollar_labels) {}

  void feed(std::string_view line) {
    trackBlocks(line);
    // Data after a section switch does not belong to the labels before it.
    if (isBlockEnd(line)) {
      label_group_.clear();
    }
    if (custom_asm_depth_ > 0) {
      line = fixLabelIndentation(line);
    }
    scan_->files.addIfFileDirective(line);
    trackLabelGroup(line);
    trackDeclarations(line);
    trackUses(line);
  }

  // Marks everything reachable through weak uses from the labels used so far.
  void resolveWeakUses();

 private:
  void trackBlocks(std::string_view line);
  void trackLabelGroup(std::string_view line);
  void trackDeclarations(std::string_view line);
  void trackUses(std::string_view line);
  void addWeakUses(std::string_view line);

  ListingScan* scan_;
  bool filter_directives_;
  bool dollar_labels_;
  int custom_asm_depth_ = 0;
  bool in_function_ = false;
  bool in_nvcc_code_ = false;
  // Consecutive label lines name the same address; data lines after them belong to all.
  std::vector<std::string_view> label_group_;
  bool in_label_group_ = false;
  // A ".set X, ." seen before the current label group: X is an alias of those labels.
  std::string_view defining_alias_;
  // Weak uses: (label, symbol) = "symbol is used if label is".
  std::vector<std::pair<std::string_view, std::string_view>> weak_;
};

void UsageScanner::trackBlocks(std::string_view line) {
  switch (appBlockMark(line)) {
    case AppBlockMark::Begin:
      ++custom_asm_depth_;
      return;
    case AppBlockMark::End:
      --custom_asm_depth_;
      return;
    case AppBlockMark::None:
      break;
  }
  if (line.find(".cfi_startproc") != std::string_view::npos) {
    in_function_ = true;
  } else if (line.find(".cfi_endproc") != std::string_view::npos) {
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
  scan_->defined.insert(def->name);
  if (!in_label_group_) {
    label_group_.clear();
  }
  label_group_.push_back(def->name);
  in_label_group_ = true;
  if (!defining_alias_.empty()) {
    weak_.emplace_back(defining_alias_, def->name);
  }
}

void UsageScanner::trackDeclarations(std::string_view line) {
  if (auto name = matchGlobalOrWeak(line)) {
    scan_->used.insert(*name);
  } else if (auto cuda = matchCudaBegin(line)) {
    // The reference records the keyword here, not the kernel's name.
    scan_->used.insert(cuda->keyword);
    scan_->defined.insert(cuda->keyword);
  }
  if (auto alias = matchAlias(line)) {
    defining_alias_ = *alias;
  }
  if (auto assignment = matchAssignment(line)) {
    scan_->defined.insert(assignment->name);
  } else if (auto set_name = matchSetDef(line)) {
    scan_->defined.insert(*set_name);
  }
}

void UsageScanner::trackUses(std::string_view line) {
  bool function_type = definesFunction(line);
  // Directives at column 0 (.file, .section, ...) use nothing.
  if (!function_type && (line.empty() || line[0] == '.')) {
    return;
  }
  if (!filter_directives_ || function_type || hasOpcode(line, in_nvcc_code_)) {
    forEachSymbolToken(line, dollar_labels_,
                       [&](std::string_view token) { scan_->used.insert(token); });
    return;
  }
  if (!isDataDefinition(line)) {
    return;
  }
  // Data inside a function (jump tables, ARM literal pools) is used by the code around it;
  // data elsewhere is used only if the label it sits under is.
  if (in_function_) {
    forEachSymbolToken(line, dollar_labels_,
                       [&](std::string_view token) { scan_->used.insert(token); });
    return;
  }
  addWeakUses(line);
}

void UsageScanner::addWeakUses(std::string_view line) {
  if (label_group_.empty()) {
    return;
  }
  forEachSymbolToken(line, dollar_labels_, [&](std::string_view token) {
    for (std::string_view label : label_group_) {
      weak_.emplace_back(label, token);
    }
  });
}

void UsageScanner::resolveWeakUses() {
  // Index the weak uses by label: first edge per label, then a chain through `next`.
  std::unordered_map<std::string_view, size_t> first;
  std::vector<size_t> next(weak_.size(), SIZE_MAX);
  for (size_t i = weak_.size(); i-- > 0;) {
    auto [it, inserted] = first.try_emplace(weak_[i].first, i);
    if (!inserted) {
      next[i] = it->second;
      it->second = i;
    }
  }

  std::vector<std::string_view> pending;
  scan_->used.forEach([&](std::string_view name) { pending.push_back(name); });
  while (!pending.empty()) {
    std::string_view label = pending.back();
    pending.pop_back();
    auto it = first.find(label);
    if (it == first.end()) {
      continue;
    }
    for (size_t e = it->second; e != SIZE_MAX; e = next[e]) {
      if (scan_->used.insert(weak_[e].second)) {
        pending.push_back(weak_[e].second);
      }
    }
  }
}

}  // namespace

ListingScan scanListing(std::string_view listing, bool filter_directives) {
  ListingScan scan;
  UsageScanner scanner(&scan, filter_directives, usesDollarLabels(listing));
  LineReader reader(listing);
  std::string_view line;
  while (reader.next(&line)) {
    ++scan.line_count;
    scanner.feed(line);
  }
  scanner.resolveWeakUses();
  return scan;
}

}  // namespace cex
