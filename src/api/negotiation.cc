#include "api/negotiation.h"

#include <optional>

#include "base/strings.h"

namespace cex {

namespace {

// How well one media range of an Accept header matches one offered type.
struct Match {
  double quality = 0;
  int specificity = 0;  // 4 for an exact type, +2 for an exact subtype, +1 for parameters
  int position = 0;     // index of the range in the header
};

double parseQuality(std::string_view params) {
  for (std::string_view param : split(params, ';')) {
    param = trim(param);
    if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      try {
        return std::stod(std::string(param.substr(2)));
      } catch (...) {
        return 0;
      }
    }
  }
  return 1;
}

bool hasOtherParams(std::string_view params) {
  for (std::string_view param : split(params, ';')) {
    param = trim(param);
    if (!param.empty() &&
        !(param.size() > 1 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')) {
      return true;
    }
  }
  return false;
}

// The best match of `offered` ("type/subtype") among the header's ranges.
std::optional<Match> bestMatch(std::string_view header, std::string_view type,
                               std::string_view subtype) {
  std::optional<Match> best;
  int position = 0;
  for (std::string_view range : split(header, ',')) {
    size_t semi = range.find(';');
    std::string_view media = trim(range.substr(0, semi));
    std::string_view params = semi == std::string_view::npos ? "" : range.substr(semi + 1);
    size_t slash = media.find('/');
    std::string_view t = media.substr(0, slash);
    std::string_view s = slash == std::string_view::npos ? "" : media.substr(slash + 1);
    Match m{parseQuality(params), 0, position++};
    bool type_ok = t == "*" || iequals(t, type);
    bool subtype_ok = s == "*" || iequals(s, subtype);
    if (!type_ok || !subtype_ok || media.empty()) {
      continue;
    }
    m.specificity = (t != "*" ? 4 : 0) + (s != "*" ? 2 : 0) + (hasOtherParams(params) ? 1 : 0);
    // On a full tie the later range wins, as in the framework this mirrors.
    bool better = !best || m.specificity > best->specificity ||
                  (m.specificity == best->specificity && m.quality >= best->quality);
    if (better) {
      best = m;
    }
  }
  return best;
}

}  // namespace

bool prefersJson(std::string_view accept_header) {
  if (trim(accept_header).empty()) {
    return false;
  }
  std::optional<Match> json = bestMatch(accept_header, "application", "json");
  std::optional<Match> text = bestMatch(accept_header, "text", "plain");
  if (!json || json->quality <= 0) {
    return false;
  }
  if (!text || text->quality <= 0) {
    return true;
  }
  if (json->quality != text->quality) {
    return json->quality > text->quality;
  }
  if (json->specificity != text->specificity) {
    return json->specificity > text->specificity;
  }
  return json->position < text->position;
}

bool isJsonContentType(std::string_view content_type) {
  std::string type = toLower(trim(content_type.substr(0, content_type.find(';'))));
  return type == "application/json" ||
         (type.starts_with("application/") && type.ends_with("+json"));
}

}  // namespace cex
