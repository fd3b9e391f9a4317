#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace cex {

namespace {

void writeSource(JsonWriter& json, const AsmSource& source) {
  json.beginObject();
  json.key("file");
  if (source.file) {
    json.string(*source.file);
  } else {
    json.null();
  }
  json.key("line").integer(source.line);
  if (source.column != 0 || source.keep_zero_column) {
    json.key("column").integer(source.column);
  }
  if (source.mainsource) {
    json.key("mainsource").boolean(*source.mainsource);
  }
  json.endObject();
}

void writeLabels(JsonWriter& json, const std::vector<AsmLabelRef>& labels) {
  json.beginArray();
  for (const AsmLabelRef& label : labels) {
    json.beginObject();
    json.key("name").string(label.name);
    if (label.target) {
      json.key("target").string(*label.target);
    }
    json.key("range").beginObject();
    json.key("startCol").integer(label.start_col);
    json.key("endCol").integer(label.end_col);
    json.endObject();
    json.endObject();
  }
  json.endArray();
}

void writeLine(JsonWriter& json, const AsmLine& line) {
  json.beginObject();
  json.key("text").string(line.text);
  if (line.has_source_key) {
    json.key("source");
    if (line.source) {
      writeSource(json, *line.source);
    } else {
      json.null();
    }
  }
  if (line.has_labels_key) {
    json.key("labels");
    writeLabels(json, line.labels);
  }
  if (line.address) {
    json.key("address").integer(static_cast<int64_t>(*line.address));
  }
  if (line.opcodes) {
    json.key("opcodes").beginArray();
    for (const std::string& byte : *line.opcodes) {
      json.string(byte);
    }
    json.endArray();
  }
  json.endObject();
}

}  // namespace

void writeAsmLines(JsonWriter& json, const ParsedAsm& parsed) {
  json.beginArray();
  for (const AsmLine& line : parsed.lines) {
    writeLine(json, line);
  }
  json.endArray();
}

void writeLabelDefinitions(JsonWriter& json, const ParsedAsm& parsed) {
  json.beginObject();
  for (const auto& [name, index] : parsed.label_definitions) {
    json.key(name).integer(index);
  }
  json.endObject();
}

void writeAsmResultMembers(JsonWriter& json, const ParsedAsm& parsed) {
  json.key("asm");
  writeAsmLines(json, parsed);
  if (parsed.has_label_definitions) {
    json.key("labelDefinitions");
    writeLabelDefinitions(json, parsed);
  }
  if (!parsed.language_id.empty()) {
    json.key("languageId").string(parsed.language_id);
  }
  json.key("parsingTime").integer(parsed.parsing_time_ms);
  json.key("filteredCount").integer(parsed.filtered_count);
}

}  // namespace cex
