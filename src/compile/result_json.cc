#include "compile/result_json.h"

#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace cex {

namespace {

void writeTag(JsonWriter& json, const LineTag& tag) {
  json.beginObject();
  json.key("line").integer(tag.line);
  json.key("column").integer(tag.column);
  json.key("text").string(tag.text);
  json.key("severity").integer(tag.severity);
  json.key("file").string(tag.file);
  json.endObject();
}

void writeStrings(JsonWriter& json, const std::vector<std::string>& strings) {
  json.beginArray();
  for (const auto& s : strings) {
    json.string(s);
  }
  json.endArray();
}

void writePopularArguments(JsonWriter& json, const std::vector<PopularArgument>& args) {
  json.beginObject();
  for (const auto& arg : args) {
    json.key(arg.flag).beginObject();
    json.key("description").string(arg.description);
    json.key("timesused").integer(0);
    json.endObject();
  }
  json.endObject();
}

// The members every result has, whether or not the compiler ran to completion.
void writeOutcome(JsonWriter& json, const CompileResult& r) {
  json.key("inputFilename").string(r.input_filename);
  json.key("code").integer(r.code);
  json.key("okToCache").boolean(r.ok_to_cache);
  json.key("timedOut").boolean(r.timed_out);
  json.key("truncated").boolean(r.truncated);
  json.key("stdout");
  writeResultLines(json, r.stdout_lines);
  json.key("stderr");
  writeResultLines(json, r.stderr_lines);
  json.key("execTime").integer(r.exec_time_ms);
  json.key("processExecutionResultTime").real(r.process_execution_result_time);
  if (!r.instruction_set.empty()) {
    json.key("instructionSet").string(r.instruction_set);
  }
  json.key("compilationOptions");
  writeStrings(json, r.compilation_options);
  json.key("downloads").beginArray().endArray();
  json.key("tools").beginArray().endArray();
}

void writeAsm(JsonWriter& json, const CompileResult& r) {
  if (r.asm_size) {
    json.key("asmSize").integer(*r.asm_size);
  }
  json.key("asm");
  writeAsmLines(json, r.parsed);
  json.key("labelDefinitions");
  writeLabelDefinitions(json, r.parsed);
  if (r.has_parse_stats) {
    json.key("parsingTime").integer(r.parsed.parsing_time_ms);
    json.key("filteredCount").integer(r.parsed.filtered_count);
  }
  if (r.objdump_time_ms) {
    json.key("objdumpTime").integer(*r.objdump_time_ms);
  }
}

void writeBuildResult(JsonWriter& json, const BuildResult& b) {
  json.beginObject();
  json.key("code").integer(b.code);
  json.key("timedOut").boolean(b.timed_out);
  json.key("okToCache").boolean(b.ok_to_cache);
  json.key("stdout");
  writeResultLines(json, b.stdout_lines);
  json.key("stderr");
  writeResultLines(json, b.stderr_lines);
  json.key("inputFilename").string(b.input_filename);
  json.key("compilationOptions");
  writeStrings(json, b.compilation_options);
  json.key("executableFilename").string(b.executable_filename);
  json.key("downloads").beginArray().endArray();
  json.key("execTime").integer(b.exec_time_ms);
  json.endObject();
}

void writeExecution(JsonWriter& json, const ExecutionResult& e) {
  json.beginObject();
  json.key("code").integer(e.code);
  json.key("okToCache").boolean(e.ok_to_cache);
  json.key("timedOut").boolean(e.timed_out);
  json.key("truncated").boolean(e.truncated);
  json.key("stdout");
  writeResultLines(json, e.stdout_lines);
  json.key("stderr");
  writeResultLines(json, e.stderr_lines);
  json.key("execTime").integer(e.exec_time_ms);
  json.key("processExecutionResultTime").real(e.process_execution_result_time);
  json.key("didExecute").boolean(e.did_execute);
  json.key("buildResult");
  writeBuildResult(json, e.build_result);
  json.endObject();
}

}  // namespace

void writeExecutionResultJson(const ExecutionResult& result, std::string* out) {
  JsonWriter json(out);
  writeExecution(json, result);
}

void writeResultLines(JsonWriter& json, const std::vector<ResultLine>& lines) {
  json.beginArray();
  for (const auto& line : lines) {
    json.beginObject();
    json.key("text").string(line.text);
    if (line.tag) {
      json.key("tag");
      writeTag(json, *line.tag);
    }
    json.endObject();
  }
  json.endArray();
}

void writeCompileResultJson(const CompileResult& result, std::string* out) {
  JsonWriter json(out);
  json.beginObject();
  writeOutcome(json, result);
  writeAsm(json, result);
  json.key("optOutput").beginArray().endArray();
  if (result.include_popular_arguments) {
    json.key("popularArguments");
    writePopularArguments(json, result.popular_arguments);
  }
  if (result.exec_result) {
    json.key("execResult");
    writeExecution(json, *result.exec_result);
  }
  if (result.retrieved_from_cache) {
    json.key("retreivedFromCache").boolean(true);
    json.key("retreivedFromCacheTime").real(result.retrieved_from_cache_time);
  }
  json.endObject();
}

std::string refusalJson(std::string_view message) {
  std::string out;
  JsonWriter json(&out);
  json.beginObject();
  json.key("code").integer(-1);
  json.key("stdout").beginArray().endArray();
  json.key("stderr").beginArray().beginObject().key("text").string(message).endObject().endArray();
  json.endObject();
  return out;
}

std::string errorResultJson(std::string_view message) {
  std::string out;
  JsonWriter w(&out);
  w.beginObject();
  w.key("code").integer(-1).key("okToCache").boolean(false).key("timedOut").boolean(false);
  w.key("stdout").beginArray().endArray();
  w.key("stderr").beginArray().beginObject().key("text").string(message).endObject().endArray();
  w.key("inputFilename").string("").key("asm").beginArray().endArray();
  w.key("tools").beginArray().endArray();
  w.endObject();
  return out;
}

std::string buildUnavailableJson(std::string_view build_system) {
  return errorResultJson("Builds with " + std::string(build_system) +
                         " are not available on this instance");
}

}  // namespace cex
