#pragma once
// JSON Lines files (LongBench's data and prediction files, KV Studio's evaluation records): one
// JSON object per line, every error naming the file, the line and what the line should hold.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvs::eval {

// Calls visit(object, line, where) for every non-blank line, where = "FILE line N". KvsError for
// a file that cannot be read ("cannot read <what> FILE ...") or a line that is not a JSON object
// (with `hint`: what a line should look like).
using JsonLineVisitor =
    std::function<void(const nlohmann::json& object, int line, const std::string& where)>;
void forEachJsonLine(const std::string& path, const std::string& what, const std::string& hint,
                     const JsonLineVisitor& visit);

// object[field] as a list of strings; whole numbers too when numbersToo, as their decimal text
// (Python's str() of them). KvsError naming where and the field otherwise.
std::vector<std::string> stringList(const nlohmann::json& object, const std::string& where,
                                    const char* field, bool numbersToo);

// object[field] when present and not null: a list of strings (as stringList), a whole number.
std::optional<std::vector<std::string>> optionalStringList(const nlohmann::json& object,
                                                           const std::string& where,
                                                           const char* field);
std::optional<long long> optionalWhole(const nlohmann::json& object, const std::string& where,
                                       const char* field);

// object[field] as a string; KvsError naming where and the field when missing or not a string.
std::string stringField(const nlohmann::json& object, const std::string& where, const char* field,
                        const std::string& meaning);

}  // namespace kvs::eval
