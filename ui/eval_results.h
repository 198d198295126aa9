#pragma once
// What the Evaluation panel shows of a results file or of a run's records, computed with the
// core's own functions (no widgets here): LongBench's task x setting table (scoreRecords), the
// needle grid (needleGrid over a NeedleRun derived from the records) and the perplexity curves
// of `kvstudio-cli eval perplexity --out`. Also the numbers as CSV for the exports.

#include "eval/longbench_run.h"
#include "eval/needle.h"

#include <QString>
#include <nlohmann/json.hpp>
#include <vector>

namespace kvs::ui {

struct PerplexityCurveData {
  QString setting;
  nlohmann::json params;
  int cacheSize = 0;      // slots per head (the full cache: the text's length)
  int firstPosition = 0;  // nll[i] is the NLL of the token at firstPosition + i
  std::vector<double> nll;
  double meanNll = 0;        // over the curve
  double meanNllCommon = 0;  // over the positions every curve covers (the CLI's table)
};

struct EvalData {
  QString path;  // the file read (empty for a run's records not yet in a file)
  QString kind;  // "longbench", "needle", "perplexity"; empty: nothing loaded
  QString model;
  std::vector<nlohmann::json> records;  // LongBench / needle
  std::vector<eval::TaskSettingScore> table;
  eval::NeedleRun needleRun;  // lengths, depths, settings and needles found in the records
  std::vector<eval::NeedleCell> needleGrid;
  int tokens = 0;      // perplexity: the text's tokens
  int commonFrom = 0;  // perplexity: the first position every curve covers
  std::vector<PerplexityCurveData> curves;
};

// Reads any results file (JSONL records, the perplexity JSON, HDF5) with kvs::eval's
// readEvalResults and derives the views' numbers; KvsError naming the problem.
EvalData loadEvalFile(const QString& path);
// The same from records of kind "longbench" or "needle" (a run's, as they arrive).
EvalData evalDataOf(const QString& kind, const QString& model, std::vector<nlohmann::json> records);

// The curves of the perplexity JSON ({"tokens", "curves": [...]}).
std::vector<PerplexityCurveData> perplexityCurvesOf(const nlohmann::json& out);

// The exports' CSVs.
QString longBenchCsv(const std::vector<eval::TaskSettingScore>& table);
QString needleCsv(const std::vector<eval::NeedleCell>& grid);
QString perplexityCsv(const std::vector<PerplexityCurveData>& curves);

// The records of one (task, setting params) in file order.
std::vector<const nlohmann::json*> samplesOf(const std::vector<nlohmann::json>& records,
                                             const std::string& task, const nlohmann::json& params);

}  // namespace kvs::ui
