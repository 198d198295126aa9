#pragma once
// An evaluation's records: one JSON object per finished (task, sample, setting), appended and
// flushed as each finishes, so a run killed at any moment loses at most the sample it was on, and
// a rerun on the same file skips what is there (resume).

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvs::eval {

class EvalRecords {
 public:
  // Opens path for appending, creating it, and reads the records already there. A last line cut
  // short by a kill (no newline, not JSON) is cut off the file and reported in notes; a damaged
  // line elsewhere, or a record of another model than `model`, is a KvsError naming the line
  // and the fix.
  static EvalRecords open(const std::string& path, const std::string& model,
                          std::vector<std::string>* notes);
  EvalRecords(EvalRecords&& other) noexcept;
  EvalRecords& operator=(EvalRecords&&) = delete;
  ~EvalRecords();

  // The key of a record: task, sample id and the setting's parameters as JSON.
  static std::string keyOf(const std::string& task, const std::string& id,
                           const nlohmann::json& params);
  bool has(const std::string& key) const { return keys_.count(key) > 0; }
  // Writes record (which must carry task, id and params) as one line and flushes it.
  void append(const nlohmann::json& record);
  const std::vector<nlohmann::json>& records() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  EvalRecords() = default;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<nlohmann::json> records_;
  std::set<std::string> keys_;
};

}  // namespace kvs::eval
