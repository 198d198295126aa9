#pragma once
// LongBench's task table, read from the data files in data/longbench/ (see its README.md for
// their origin): each task's prompt template and generation length from LongBench's own
// config/dataset2prompt.json and config/dataset2maxlen.json, its metric from eval.py's
// dataset2metric (dataset2metric.json), plus the two rules eval.py keeps in code: which tasks are
// scored on the prediction's first line, and (KV Studio's) which are refused for now.

#include <string>
#include <vector>

#include "eval/longbench_metrics.h"

namespace kvs::eval {

struct LongBenchTask {
  std::string name;            // "qasper", as in LongBench's file names
  std::string promptTemplate;  // with {context} and {input} to fill in
  int maxNewTokens = 0;        // dataset2maxlen
  LongBenchMetric metric = LongBenchMetric::kQaF1;
  bool firstLineOnly = false;  // trec, triviaqa, samsum, lsht
  std::string refusal;         // why the task cannot be scored here; "" when it can
};

// The folder with LongBench's data files and what chose it, for messages.
struct LongBenchDataDir {
  std::string path;
  std::string chosenBy;
};

// The environment variable that names the folder when no option does.
inline constexpr const char* kLongBenchDirVariable = "KVS_LONGBENCH_DIR";

// `option` if given (a --longbench-dir flag), else $KVS_LONGBENCH_DIR, else the checkout's
// data/longbench that the build was configured from (as the app finds data/prompts).
LongBenchDataDir findLongBenchDataDir(const std::string& option = "");

class LongBenchTasks {
 public:
  // Reads the three files; KvsError names the file and the fix when one is missing, is not
  // JSON, has a value of the wrong type, or the files disagree on the tasks.
  static LongBenchTasks load(const LongBenchDataDir& dir);

  // The task by name; KvsError listing the known names otherwise.
  const LongBenchTask& find(const std::string& name) const;
  // find(), and KvsError naming the task and why when it is refused (the Chinese tasks).
  const LongBenchTask& scorable(const std::string& name) const;

  const std::vector<LongBenchTask>& all() const { return tasks_; }

 private:
  std::vector<LongBenchTask> tasks_;
};

}  // namespace kvs::eval
