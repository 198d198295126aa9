// kvstudio-cli eval longbench: LongBench's tasks run as its authors run them, once per
// compression setting (core/eval/longbench_run.h), each sample's record written as it finishes
// (a rerun with the same --out resumes), then the task x setting table.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/compression_options.h"
#include "cli/eval_h5_option.h"
#include "cli/model_options.h"
#include "cli/progress_line.h"
#include "cli/validators.h"
#include "compress/compression_method.h"
#include "eval/longbench_run.h"
#include "session/session.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

struct LongBenchOptions {
  ModelOptions model;
  std::string tokenizer, data, out, longbenchDir;
  std::vector<std::string> tasks;
  std::vector<std::string> methods = comparedByDefault();
  std::vector<double> budgets = {0.5, 0.35};
  int maxLength = 0, limit = 0;
  bool longbenchE = false, noChat = false, json = false, csv = false;
  CompressionOptions compression;  // the other parameters, shared by all settings
  EvalH5Option h5;
};

void printTable(const std::vector<eval::TaskSettingScore>& table, bool json, bool csv) {
  if (csv) {
    std::printf("task,setting,samples,score\n");
    for (const auto& t : table) {
      std::printf("%s,%s,%d,%.2f\n", t.task.c_str(), t.setting.c_str(), t.samples, t.score);
    }
    return;
  }
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& t : table) {
      out.push_back({{"task", t.task},
                     {"setting", t.setting},
                     {"params", t.params},
                     {"samples", t.samples},
                     {"score", t.score}});
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("%-22s %-28s %8s %7s\n", "task", "setting", "samples", "score");
  for (const auto& t : table) {
    std::printf("%-22s %-28s %8d %7.2f\n", t.task.c_str(), t.setting.c_str(), t.samples, t.score);
  }
}

int runLongBench(const LongBenchOptions& o) {
  const eval::LongBenchTasks tasks =
      eval::LongBenchTasks::load(eval::findLongBenchDataDir(o.longbenchDir));
  for (const auto& name : o.tasks) tasks.scorable(name);  // before the model loads
  checkEvalH5Option(o.h5, "longbench", o.out);
  const auto session = Session::open(o.model.model, o.model.resolve(), o.tokenizer);
  eval::LongBenchRun run;
  run.dataDir = o.data;
  run.tasks = o.tasks;
  run.settings.push_back(CompressionParams{});  // the full cache, the reference
  for (CompressionParams& p :
       settingsGrid(o.compression, o.methods, o.budgets, session->model(), "eval longbench")) {
    run.settings.push_back(std::move(p));
  }
  run.model = o.model.model;
  run.maxLength = o.maxLength;
  run.limit = o.limit;
  run.longbenchE = o.longbenchE;
  run.chat = !o.noChat;
  std::vector<std::string> notes;
  eval::EvalRecords records = eval::EvalRecords::open(o.out, run.model, &notes);
  for (const auto& n : notes) std::cerr << "note: " << n << "\n";
  const auto table = eval::runLongBench(
      session->model(), session->tokenizer(), tasks, run, records, [](int done, int total) {
        drawProgressLine(std::to_string(done) + "/" + std::to_string(total) +
                         " samples x settings");
        return true;
      });
  endProgressLine();
  printTable(table, o.json, o.csv);
  writeEvalH5Option(o.h5, "longbench", run.model, o.out, records.records());
  return 0;
}

}  // namespace

Subcommand addEvalLongBenchCommand(CLI::App& eval) {
  CLI::App* app = eval.add_subcommand(
      "longbench",
      "Run LongBench tasks (its <task>.jsonl data, prompts, truncation and metrics) for the full "
      "cache and every --methods x --budgets setting; resumable");
  auto o = std::make_shared<LongBenchOptions>();
  addModelOptions(*app, o->model);
  app->add_option("--tokenizer", o->tokenizer,
                  "SentencePiece .model file (default: next to the model)")
      ->check(nonEmptyPath());
  app->add_option("--data", o->data, "The folder of LongBench's <task>.jsonl files")
      ->required()
      ->check(nonEmptyPath());
  app->add_option("--tasks", o->tasks, "Comma-separated LongBench tasks, e.g. qasper,trec")
      ->required()
      ->delimiter(',');
  app->add_option("--methods", o->methods, "Comma-separated methods (default: all registered)")
      ->delimiter(',');
  app->add_option("--budgets", o->budgets, "Comma-separated budgets (fractions)")->delimiter(',');
  app->add_option("--out", o->out,
                  "The records file (JSON lines, one per sample and setting); an existing one "
                  "is resumed")
      ->required()
      ->check(nonEmptyPath());
  app->add_option("--max-length", o->maxLength,
                  "Prompt tokens kept, cut in the middle (LongBench: 3500 for Llama-2-7B-chat-"
                  "4k; default: the context less the task's generation length and 16)")
      ->check(positiveWhole());
  app->add_option("--limit", o->limit, "Samples per task, the file's first (default: all)")
      ->check(positiveWhole());
  app->add_flag("--longbench-e", o->longbenchE, "Read LongBench-E's <task>_e.jsonl files");
  app->add_flag("--no-chat", o->noChat, "No [INST]...[/INST] wrapping (a base model)");
  CLI::Option* json = app->add_flag("--json", o->json, "The task x setting table as JSON");
  app->add_flag("--csv", o->csv, "The task x setting table as CSV")->excludes(json);
  app->add_option("--longbench-dir", o->longbenchDir,
                  std::string("The folder of LongBench's task table (default: $") +
                      eval::kLongBenchDirVariable + ", else the checkout's data/longbench)");
  addEvalH5Option(*app, o->h5);
  addCompressionOptions(*app, o->compression);
  return {app, [o] { return runLongBench(*o); }};
}

}  // namespace kvs::cli
