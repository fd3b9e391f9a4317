#include "api/request_parser.h"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "api/lenient_json.h"
#include "base/arguments.h"
#include "base/json_writer.h"
#include "base/strings.h"

namespace cex {

namespace json = boost::json;

namespace {

ApiError jsonError(std::string_view message) {
  std::string body;
  JsonWriter w(&body);
  w.beginObject().key("error").boolean(true).key("message").string(message).endObject();
  return {400, "application/json; charset=utf-8", std::move(body)};
}

ParsedRequest failed(ApiError error) {
  ParsedRequest p;
  p.error = std::move(error);
  return p;
}

// JavaScript's truthiness, which decides how Compiler Explorer reads flags.
bool truthy(const json::value& v) {
  switch (v.kind()) {
    case json::kind::bool_:
      return v.get_bool();
    case json::kind::int64:
      return v.get_int64() != 0;
    case json::kind::uint64:
      return v.get_uint64() != 0;
    case json::kind::double_:
      return v.get_double() != 0;
    case json::kind::string:
      return !v.get_string().empty();
    case json::kind::null:
      return false;
    default:
      return true;
  }
}

const json::value* member(const json::value* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) {
    return nullptr;
  }
  return object->get_object().if_contains(key);
}

std::string asString(const json::value* v) {
  if (v == nullptr || v->is_null()) {
    return {};
  }
  if (v->is_string()) {
    return std::string(v->get_string());
  }
  return json::serialize(*v);
}

// An argument list given as a shell-style string or as an array.
std::vector<std::string> asArguments(const json::value* v) {
  std::vector<std::string> args;
  if (v == nullptr || v->is_null()) {
    return args;
  }
  if (v->is_array()) {
    for (const auto& item : v->get_array()) {
      args.push_back(asString(&item));
    }
    return args;
  }
  return splitArguments(asString(v));
}

// Serialises with object keys sorted, so equal objects give equal text.
void writeCanonical(JsonWriter& w, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      std::vector<std::pair<std::string_view, const json::value*>> items;
      for (const auto& kv : v.get_object()) {
        items.emplace_back(kv.key(), &kv.value());
      }
      std::sort(items.begin(), items.end());
      w.beginObject();
      for (const auto& [key, value] : items) {
        w.key(key);
        writeCanonical(w, *value);
      }
      w.endObject();
      return;
    }
    case json::kind::array:
      w.beginArray();
      for (const auto& item : v.get_array()) {
        writeCanonical(w, item);
      }
      w.endArray();
      return;
    case json::kind::string:
      w.string(v.get_string());
      return;
    default:
      w.raw(json::serialize(v));
  }
}

void readFilters(const json::value* filters, CompileFilters* out) {
  if (filters == nullptr || !filters->is_object()) {
    return;
  }
  for (const auto& kv : filters->get_object()) {
    out->set(kv.key(), truthy(kv.value()));
  }
}

void readCompilerOptions(const json::value* options, CompileRequest* r) {
  if (options == nullptr || !options->is_object()) {
    return;
  }
  r->skip_asm = member(options, "skipAsm") && truthy(*member(options, "skipAsm"));
  r->skip_pop_args = member(options, "skipPopArgs") && truthy(*member(options, "skipPopArgs"));
  r->executor_request =
      member(options, "executorRequest") && truthy(*member(options, "executorRequest"));
  r->filter_ansi = member(options, "filterAnsi") && truthy(*member(options, "filterAnsi"));
  r->compiler_options_json.clear();
  JsonWriter w(&r->compiler_options_json);
  writeCanonical(w, *options);
}

void readTools(const json::value* tools, CompileRequest* r) {
  if (tools == nullptr || !tools->is_array()) {
    return;
  }
  for (const auto& tool : tools->get_array()) {
    ToolRequest t;
    t.id = asString(member(&tool, "id"));
    t.args = asArguments(member(&tool, "args"));
    t.stdin_data = asString(member(&tool, "stdin"));
    r->tools.push_back(std::move(t));
  }
}

void readLibraries(const json::value* libraries, CompileRequest* r) {
  if (libraries == nullptr || !libraries->is_array()) {
    return;
  }
  for (const auto& lib : libraries->get_array()) {
    r->libraries.push_back({asString(member(&lib, "id")), asString(member(&lib, "version"))});
  }
}

void readExecuteParameters(const json::value* params, CompileRequest* r) {
  ExecuteParameters& e = r->execute_parameters;
  e.args = asArguments(member(params, "args"));
  e.stdin_data = asString(member(params, "stdin"));
  const json::value* tools = member(params, "runtimeTools");
  if (tools == nullptr || !tools->is_array()) {
    return;
  }
  for (const auto& tool : tools->get_array()) {
    const json::value* options = member(&tool, "options");
    if (asString(member(&tool, "name")) != "env" || options == nullptr || !options->is_array()) {
      continue;
    }
    for (const auto& option : options->get_array()) {
      e.env.emplace_back(asString(member(&option, "name")), asString(member(&option, "value")));
    }
  }
}

void readFiles(const json::value* files, CompileRequest* r) {
  if (files == nullptr || !files->is_array()) {
    return;
  }
  for (const auto& file : files->get_array()) {
    r->files.push_back({asString(member(&file, "filename")), asString(member(&file, "contents"))});
  }
}

int readBypassCache(const json::value* v) {
  if (v == nullptr) {
    return 0;
  }
  if (v->is_int64() || v->is_uint64() || v->is_double()) {
    double n = v->to_number<double>();
    return n >= 2 ? 2 : n >= 1 ? 1 : 0;
  }
  return truthy(*v) ? 1 : 0;
}

void readOptions(const json::value* options, CompileRequest* r) {
  r->user_arguments = asArguments(member(options, "userArguments"));
  readFilters(member(options, "filters"), &r->filters);
  readCompilerOptions(member(options, "compilerOptions"), r);
  readTools(member(options, "tools"), r);
  readLibraries(member(options, "libraries"), r);
  readExecuteParameters(member(options, "executeParameters"), r);
}

bool isHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// The UTF-16 code unit of a "\uXXXX" escape starting at s[i], or -1.
int escapedUnit(std::string_view s, size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') {
    return -1;
  }
  for (size_t k = i + 2; k < i + 6; ++k) {
    if (!isHex(s[k])) {
      return -1;
    }
  }
  return std::stoi(std::string(s.substr(i + 2, 4)), nullptr, 16);
}

// Rewrites "\uD800"-style escapes that are not part of a surrogate pair as "\uFFFD", as
// JavaScript-based servers accept them; returns nullopt when there is none.
std::optional<std::string> replaceLoneSurrogates(std::string_view body) {
  std::string out;
  bool changed = false;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (!in_string || c != '\\') {
      in_string = c == '"' ? !in_string : in_string;
      out.push_back(c);
      continue;
    }
    int unit = escapedUnit(body, i);
    bool high = unit >= 0xD800 && unit <= 0xDBFF;
    bool low = unit >= 0xDC00 && unit <= 0xDFFF;
    int next = high ? escapedUnit(body, i + 6) : -1;
    if (high && next >= 0xDC00 && next <= 0xDFFF) {
      out.append(body.substr(i, 12));
      i += 11;
    } else if (high || low) {
      out.append("\\ufffd");
      changed = true;
      i += 5;
    } else {
      out.append(body.substr(i, 2));  // Any other escape, including an escaped backslash.
      ++i;
    }
  }
  return changed ? std::optional<std::string>(std::move(out)) : std::nullopt;
}

json::value parseLenientImpl(std::string_view body, json::error_code& ec) {
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  json::value doc = json::parse(body, ec, {}, options);
  if (!ec) {
    return doc;
  }
  std::optional<std::string> repaired = replaceLoneSurrogates(body);
  if (!repaired) {
    return doc;
  }
  ec = {};
  return json::parse(*repaired, ec, {}, options);
}

}  // namespace

ApiError htmlError(int status, std::string_view title, std::string_view message) {
  std::string body = "<!DOCTYPE html>\n<html><head><title>";
  body.append(title).append("</title></head><body><pre>");
  for (char c : message) {
    switch (c) {
      case '<':
        body.append("&lt;");
        break;
      case '>':
        body.append("&gt;");
        break;
      case '&':
        body.append("&amp;");
        break;
      default:
        body.push_back(c);
    }
  }
  body.append("</pre></body></html>\n");
  return {status, "text/html; charset=utf-8", std::move(body)};
}

ParsedRequest parseJsonCompileRequest(std::string_view body) {
  json::error_code ec;
  json::value doc = parseLenientImpl(body, ec);
  if (ec) {
    return failed(htmlError(400, "Bad Request", "malformed JSON body: " + ec.message()));
  }
  const json::value* options = member(&doc, "options");
  if (options == nullptr) {
    return failed(jsonError("Missing options property"));
  }
  const json::value* source = member(&doc, "source");
  if (source == nullptr) {
    return failed(jsonError("Missing source property"));
  }
  if (!source->is_string() && !source->is_null()) {
    return failed(jsonError("The source property must be a string"));
  }

  CompileRequest r;
  r.source = asString(source);
  readOptions(options, &r);
  readFiles(member(&doc, "files"), &r);
  r.bypass_cache = readBypassCache(member(&doc, "bypassCache"));
  r.lang = asString(member(&doc, "lang"));
  ParsedRequest p;
  p.request = std::move(r);
  return p;
}

ParsedRequest parseTextCompileRequest(const HttpRequest& http) {
  if (http.body.empty()) {
    return failed(htmlError(500, "Internal Server Error", "Bad request: the body is empty"));
  }
  CompileRequest r;
  r.source = http.body;
  r.user_arguments = splitArguments(http.queryParam("options").value_or(""));
  if (auto filters = http.queryParam("filters")) {
    r.filters = CompileFilters{};
    for (std::string_view name : split(*filters, ',')) {
      r.filters.set(trim(name), true);
    }
  }
  for (std::string_view name : split(http.queryParam("addFilters").value_or(""), ',')) {
    r.filters.set(trim(name), true);
  }
  for (std::string_view name : split(http.queryParam("removeFilters").value_or(""), ',')) {
    r.filters.set(trim(name), false);
  }
  r.skip_asm = http.queryParam("skipAsm") == "true";
  r.skip_pop_args = http.queryParam("skipPopArgs") == "true";
  r.filter_ansi = http.queryParam("filterAnsi") == "true";
  JsonWriter w(&r.compiler_options_json);
  r.compiler_options_json.clear();
  w.beginObject().key("skipAsm").boolean(r.skip_asm).key("skipPopArgs").boolean(r.skip_pop_args);
  w.endObject();
  ParsedRequest p;
  p.request = std::move(r);
  return p;
}

ParsedRequest parseFormCompileRequest(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> fields = parseQueryString(body);
  auto field = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : fields) {
      if (k == name) {
        return v;
      }
    }
    return {};
  };
  CompileRequest r;
  r.source = field("source");
  r.lang = field("lang");
  r.user_arguments = splitArguments(field("userArguments"));
  r.execute_parameters.args = splitArguments(field("executeParametersArgs"));
  r.execute_parameters.stdin_data = field("executeParametersStdin");
  r.skip_asm = field("skipAsm") == "true";
  r.filter_ansi = field("filterAnsi") == "true";
  // Every filter is off unless the form says "true" for it.
  CompileFilters filters;
  for (const auto& [k, v] : fields) {
    filters.set(k, v == "true");
  }
  r.filters = filters;
  ParsedRequest p;
  p.compiler_id = field("compiler");
  p.request = std::move(r);
  return p;
}

}  // namespace cex

namespace cex {

boost::json::value parseJsonLenient(std::string_view text, boost::json::error_code& ec) {
  return parseLenientImpl(text, ec);
}

std::vector<std::string> parseUsedOptions(std::string_view body) {
  json::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    return {};
  }
  return asArguments(member(&doc, "usedOptions"));
}

}  // namespace cex
