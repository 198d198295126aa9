#include "eval/longbench_predictions.h"

#include <nlohmann/json.hpp>

#include "eval/json_lines.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

const char* const kFormatHint =
    "each line should be one JSON object as LongBench's pred.py writes it: {\"pred\": \"...\", "
    "\"answers\": [\"...\"], \"all_classes\": null, \"length\": 1234}";

std::string lineError(const std::string& path, int line, const std::string& what) {
  return path + " line " + std::to_string(line) + ": " + what;
}

PredictionRecord readRecord(const nlohmann::json& json, int line, const std::string& where) {
  PredictionRecord record;
  record.line = line;
  require(json.contains("pred"), where + " has no \"pred\" (the model's output); " + kFormatHint);
  record.prediction = stringField(json, where, "pred", "the model's output");
  require(json.contains("answers"),
          where + " has no \"answers\" (the ground truths); " + kFormatHint);
  record.answers = stringList(json, where, "answers", true);
  record.allClasses = optionalStringList(json, where, "all_classes");
  record.length = optionalWhole(json, where, "length");
  return record;
}

}  // namespace

PredictionsFile readPredictions(const std::string& path) {
  PredictionsFile file{path, {}};
  forEachJsonLine(path, "the predictions file", kFormatHint,
                  [&](const nlohmann::json& json, int line, const std::string& where) {
                    file.records.push_back(readRecord(json, line, where));
                  });
  require(!file.records.empty(), "the predictions file " + path + " has no predictions");
  return file;
}

ScoredPredictions scorePredictions(const LongBenchTask& task, const PredictionsFile& file,
                                   bool byLength) {
  require(task.refusal.empty(), "cannot score " + task.name + ": " + task.refusal);
  ScoredPredictions out;
  out.task = task.name;
  out.metric = task.metric;
  std::vector<long long> lengths;
  const std::vector<std::string> noClasses;
  for (const PredictionRecord& record : file.records) {
    if (task.metric == LongBenchMetric::kClassification) {
      require(record.allClasses.has_value(),
              lineError(file.path, record.line,
                        "no \"all_classes\": " + task.name +
                            " is a classification task and is scored against the class names"));
    }
    if (byLength) {
      require(record.length.has_value(),
              lineError(file.path, record.line,
                        "no \"length\", which LongBench-E's buckets (0-4k, 4-8k, 8k+) need"));
      lengths.push_back(*record.length);
    }
    // An empty "answers" scores 0, as in eval.py (its max over no ground truths stays 0).
    try {
      out.sampleScores.push_back(sampleScore(task.metric, task.firstLineOnly, record.prediction,
                                             record.answers,
                                             record.allClasses ? *record.allClasses : noClasses));
    } catch (const KvsError& e) {
      throw KvsError(lineError(file.path, record.line, e.what()));
    }
    out.lines.push_back(record.line);
  }
  out.score = taskScore(out.sampleScores);
  if (byLength) out.byLength = taskScoreByLength(out.sampleScores, lengths);
  return out;
}

}  // namespace kvs::eval
