#pragma once
// Predictions files in LongBench's own format (what its pred.py writes, pred/<model>/<task>.jsonl)
// and their scores: one JSON object per line with "pred" (the model's text), "answers" (the
// ground truths), "all_classes" (the class names of a classification task, else null) and
// "length" (the context's word count, which LongBench-E buckets by).

#include <optional>
#include <string>
#include <vector>

#include "eval/longbench_scorer.h"
#include "eval/longbench_tasks.h"

namespace kvs::eval {

struct PredictionRecord {
  int line = 0;  // 1-based line number in the file, for messages
  std::string prediction;
  std::vector<std::string> answers;
  std::optional<std::vector<std::string>> allClasses;  // absent or null: nullopt
  std::optional<long long> length;
};

struct PredictionsFile {
  std::string path;
  std::vector<PredictionRecord> records;
};

// Every non-blank line of the file. KvsError names the file, the line number and the fix for a
// line that is not a JSON object, lacks "pred" or "answers", or has a field of the wrong type
// ("answers" entries may be strings or whole numbers, read as their decimal text, as Python's
// str() of them would be).
PredictionsFile readPredictions(const std::string& path);

struct ScoredPredictions {
  std::string task;
  LongBenchMetric metric = LongBenchMetric::kQaF1;
  std::vector<int> lines;
  std::vector<double> sampleScores;            // the metric's best over the answers, in [0, 1]
  double score = 0;                            // eval.py's scorer: 100 x mean, two decimals
  std::optional<LengthBucketScores> byLength;  // scorer_e, when asked for
};

// Scores every record of the file with the task's metric. `byLength` also computes LongBench-E's
// buckets and then needs "length" on every line. A classification task needs "all_classes" on every
// line (each line's own list is used; LongBench's eval.py uses the last line's for all, which is
// the same list in LongBench's data). Errors name the file's line.
ScoredPredictions scorePredictions(const LongBenchTask& task, const PredictionsFile& file,
                                   bool byLength);

}  // namespace kvs::eval
