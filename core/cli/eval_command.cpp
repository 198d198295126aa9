// kvstudio-cli eval: long-context evaluation. `eval score` scores a predictions file in
// LongBench's own format with LongBench's metrics (core/eval), so outputs of any tool can be
// compared with LongBench's published numbers; `eval longbench` runs the tasks
// (eval_longbench_command.cpp), `eval needle` the needle grid (eval_needle_command.cpp) and
// `eval perplexity` the NLL under a fixed cache (eval_perplexity_command.cpp).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "eval/longbench_predictions.h"
#include "eval/longbench_tasks.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

struct ScoreOptions {
  std::string task, predictions, longbenchDir;
  bool json = false, byLength = false;
};

const char* const kBucketNames[3] = {"0-4k", "4-8k", "8k+"};

std::optional<double> bucket(const eval::LengthBucketScores& b, int i) {
  return i == 0 ? b.upTo4k : i == 1 ? b.from4kTo8k : b.from8k;
}

std::string predictions(size_t n) {
  return std::to_string(n) + (n == 1 ? " prediction" : " predictions");
}

std::string twoDecimals(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

nlohmann::ordered_json scoreJson(const eval::ScoredPredictions& s, const std::string& path) {
  nlohmann::ordered_json out = {{"task", s.task},
                                {"metric", eval::metricName(s.metric)},
                                {"predictions", path},
                                {"samples", s.sampleScores.size()},
                                {"score", s.score}};
  if (s.byLength) {
    nlohmann::ordered_json buckets = nlohmann::ordered_json::object();
    for (int i = 0; i < 3; ++i) {
      const std::optional<double> score = bucket(*s.byLength, i);
      buckets[kBucketNames[i]] = {{"score", score ? nlohmann::ordered_json(*score) : nullptr},
                                  {"samples", s.byLength->count[i]}};
    }
    out["by_length"] = buckets;
  }
  nlohmann::ordered_json samples = nlohmann::ordered_json::array();
  for (size_t i = 0; i < s.sampleScores.size(); ++i) {
    samples.push_back({{"line", s.lines[i]}, {"score", s.sampleScores[i]}});
  }
  out["per_sample"] = samples;
  return out;
}

int runScore(const ScoreOptions& o) {
  const eval::LongBenchTasks tasks =
      eval::LongBenchTasks::load(eval::findLongBenchDataDir(o.longbenchDir));
  const eval::LongBenchTask& task = tasks.scorable(o.task);
  const eval::ScoredPredictions scored =
      eval::scorePredictions(task, eval::readPredictions(o.predictions), o.byLength);
  if (o.json) {
    std::cout << scoreJson(scored, o.predictions).dump(2) << "\n";
    return 0;
  }
  std::cout << task.name << ": " << twoDecimals(scored.score) << " ("
            << eval::metricName(task.metric) << ", " << predictions(scored.sampleScores.size())
            << ")\n";
  if (scored.byLength) {
    for (int i = 0; i < 3; ++i) {
      const std::optional<double> score = bucket(*scored.byLength, i);
      std::cout << "  " << kBucketNames[i] << ": "
                << (score ? twoDecimals(*score) : std::string("-")) << " ("
                << predictions(scored.byLength->count[i]) << ")\n";
    }
  }
  return 0;
}

}  // namespace

Action addEvalCommand(CLI::App& app) {
  app.require_subcommand(1);
  CLI::App* score =
      app.add_subcommand("score",
                         "Score a LongBench predictions file (pred/<model>/<task>.jsonl: pred, "
                         "answers, all_classes, length) as LongBench's eval.py does")
          ->fallthrough();
  auto o = std::make_shared<ScoreOptions>();
  score->add_option("--task", o->task, "The LongBench task, e.g. qasper, trec, lcc")->required();
  score->add_option("--predictions", o->predictions, "The predictions file (JSON lines)")
      ->required();
  score->add_flag("--json", o->json, "The task score and every sample's score as JSON");
  score->add_flag("--longbench-e", o->byLength,
                  "Also score per context length (0-4k, 4-8k, 8k+), as LongBench-E");
  score->add_option("--longbench-dir", o->longbenchDir,
                    std::string("The folder of LongBench's task table (default: $") +
                        eval::kLongBenchDirVariable + ", else the checkout's data/longbench)");
  const std::vector<Subcommand> runs = {addEvalLongBenchCommand(app), addEvalNeedleCommand(app),
                                        addEvalPerplexityCommand(app)};
  return [score, o, runs]() -> int {
    if (score->parsed()) return runScore(*o);
    for (const Subcommand& run : runs) {
      if (run.app->parsed()) return run.action();
    }
    throw KvsError("eval needs a subcommand: score, longbench, needle or perplexity (see --help)");
  };
}

}  // namespace kvs::cli
