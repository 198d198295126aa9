#include "eval/json_lines.h"

#include <fstream>

#include "util/error.h"

namespace kvs::eval {

void forEachJsonLine(const std::string& path, const std::string& what, const std::string& hint,
                     const JsonLineVisitor& visit) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read " + what + " " + path + ": no such file, or not readable");
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(line);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw KvsError(where + " is not JSON (" + e.what() + "); " + hint);
    }
    require(json.is_object(), where + " is not a JSON object; " + hint);
    visit(json, line, where);
  }
}

std::vector<std::string> stringList(const nlohmann::json& object, const std::string& where,
                                    const char* field, bool numbersToo) {
  const nlohmann::json& value = object.at(field);
  require(value.is_array(), where + ": \"" + field + "\" should be a list of strings");
  std::vector<std::string> out;
  for (const nlohmann::json& item : value) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (numbersToo && item.is_number_integer()) {
      out.push_back(item.dump());  // Python's str() of an int
    } else {
      throw KvsError(where + ": \"" + field + "\" should hold only strings, not " + item.dump());
    }
  }
  return out;
}

std::optional<std::vector<std::string>> optionalStringList(const nlohmann::json& object,
                                                           const std::string& where,
                                                           const char* field) {
  if (!object.contains(field) || object[field].is_null()) return std::nullopt;
  return stringList(object, where, field, false);
}

std::optional<long long> optionalWhole(const nlohmann::json& object, const std::string& where,
                                       const char* field) {
  if (!object.contains(field) || object[field].is_null()) return std::nullopt;
  require(object[field].is_number_integer(),
          where + ": \"" + field + "\" should be a whole number");
  return object[field].get<long long>();
}

std::string stringField(const nlohmann::json& object, const std::string& where, const char* field,
                        const std::string& meaning) {
  require(object.contains(field), where + " has no \"" + field + "\" (" + meaning + ")");
  require(object[field].is_string(), where + ": \"" + field + "\" should be a string");
  return object[field].get<std::string>();
}

}  // namespace kvs::eval
