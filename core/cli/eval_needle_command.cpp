// kvstudio-cli eval needle: the needle-in-a-haystack grid (context lengths x depths) for the full
// cache and every --methods x --budgets setting (core/eval/needle.h), each (cell, setting) record
// written as it finishes (a rerun with the same --out resumes), then per setting a grid of
// depth rows x length columns: the greedy answer's contains-rate and the answer's mean NLL.

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
#include "eval/needle.h"
#include "session/session.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

struct NeedleOptions {
  ModelOptions model;
  std::string tokenizer, haystack, needle, question, answer, needleFile, out;
  std::vector<int> lengths;
  std::vector<double> depths = {0, 0.25, 0.5, 0.75, 1};
  std::vector<std::string> methods = comparedByDefault();
  std::vector<double> budgets = {0.5};
  int maxNewTokens = 16;
  bool chat = false, json = false;
  CompressionOptions compression;  // the other parameters, shared by all settings
  EvalH5Option h5;
  CLI::Option *needleOption = nullptr, *questionOption = nullptr, *answerOption = nullptr;
};

// --needle-file's list, the three flags' needle, or the default one.
std::vector<eval::Needle> needlesOf(const NeedleOptions& o) {
  const int given = int(o.needleOption->count() > 0) + int(o.questionOption->count() > 0) +
                    int(o.answerOption->count() > 0);
  if (!o.needleFile.empty()) return eval::readNeedleFile(o.needleFile);  // CLI11 excludes the 3
  if (given == 0) return {eval::defaultNeedle()};
  require(given == 3,
          "--needle, --question and --answer go together; give all three, or "
          "--needle-file, or none for the default needle");
  const eval::Needle n{o.needle, o.question, o.answer};
  eval::requireNeedle(n, "--needle/--question/--answer");
  return {n};
}

void printCell(double value, int samples, const char* format) {
  if (samples == 0) {
    std::printf("%7s", "-");
  } else {
    std::printf(format, value);
  }
}

// Per setting: depth rows x length columns, the contains-rate left and the mean NLL right.
void printGrid(const eval::NeedleRun& run, const std::vector<eval::NeedleCell>& grid, bool json) {
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& c : grid) {
      out.push_back({{"setting", c.setting},
                     {"params", c.params},
                     {"length", c.length},
                     {"depth", c.depth},
                     {"samples", c.samples},
                     {"contains_rate", c.containsRate},
                     {"mean_nll", c.meanNll},
                     {"mean_first_token_rank", c.meanFirstRank}});
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  const size_t columns = run.lengths.size(), rows = run.depths.size();
  for (size_t s = 0; s < run.settings.size(); ++s) {
    const eval::NeedleCell* cells = &grid[s * rows * columns];
    std::printf("%s%s: contains-rate | mean answer NLL (nats/token); %zu needle%s per cell\n",
                s > 0 ? "\n" : "", cells[0].setting.c_str(), run.needles.size(),
                run.needles.size() == 1 ? "" : "s");
    std::printf("%-6s", "depth");
    for (int L : run.lengths) std::printf("%7d", L);
    std::printf("  |");
    for (int L : run.lengths) std::printf("%7d", L);
    std::printf("\n");
    double contains = 0, nll = 0, rank = 0;
    int samples = 0;
    for (size_t r = 0; r < rows; ++r) {
      std::printf("%-6g", run.depths[r]);
      for (size_t c = 0; c < columns; ++c) {
        const eval::NeedleCell& cell = cells[r * columns + c];
        printCell(cell.containsRate, cell.samples, "%7.2f");
        contains += cell.containsRate * cell.samples;
        nll += cell.meanNll * cell.samples;
        rank += cell.meanFirstRank * cell.samples;
        samples += cell.samples;
      }
      std::printf("  |");
      for (size_t c = 0; c < columns; ++c) {
        const eval::NeedleCell& cell = cells[r * columns + c];
        printCell(cell.meanNll, cell.samples, "%7.3f");
      }
      std::printf("\n");
    }
    if (samples > 0) {
      std::printf(
          "all cells: contains-rate %.3f, mean answer NLL %.3f, mean first-token rank "
          "%.1f\n",
          contains / samples, nll / samples, rank / samples);
    }
  }
}

int runNeedle(const NeedleOptions& o) {
  eval::NeedleRun run;
  run.needles = needlesOf(o);  // before the model loads
  run.haystackName = o.haystack.empty() ? eval::defaultHaystackPath() : o.haystack;
  run.haystack = eval::readHaystack(run.haystackName);
  run.lengths = o.lengths;
  run.depths = o.depths;
  run.maxNewTokens = o.maxNewTokens;
  run.chat = o.chat;
  run.model = o.model.model;
  const auto session = Session::open(o.model.model, o.model.resolve(), o.tokenizer);
  run.settings.push_back(CompressionParams{});  // the full cache, the reference
  for (CompressionParams& p :
       settingsGrid(o.compression, o.methods, o.budgets, session->model(), "eval needle")) {
    run.settings.push_back(std::move(p));
  }
  eval::checkNeedleRun(session->model(), session->tokenizer(), run);  // before --out is made
  checkEvalH5Option(o.h5, "needle", o.out);
  std::vector<std::string> notes;
  eval::EvalRecords records = eval::EvalRecords::open(o.out, run.model, &notes);
  for (const auto& n : notes) std::cerr << "note: " << n << "\n";
  const auto grid = eval::runNeedle(
      session->model(), session->tokenizer(), run, records, [](int done, int total) {
        drawProgressLine(std::to_string(done) + "/" + std::to_string(total) + " cells x settings");
        return true;
      });
  endProgressLine();
  printGrid(run, grid, o.json);
  writeEvalH5Option(o.h5, "needle", run.model, o.out, records.records());
  return 0;
}

}  // namespace

Subcommand addEvalNeedleCommand(CLI::App& eval) {
  CLI::App* app = eval.add_subcommand(
      "needle",
      "Needle in a haystack: a grid of context lengths x depths for the full cache and every "
      "--methods x --budgets setting, scored by the greedy answer and the teacher-forced "
      "answer's NLL; resumable");
  auto o = std::make_shared<NeedleOptions>();
  addModelOptions(*app, o->model);
  app->add_option("--tokenizer", o->tokenizer,
                  "SentencePiece .model file (default: next to the model)")
      ->check(nonEmptyPath());
  app->add_option("--lengths", o->lengths,
                  "Comma-separated context lengths: prompt tokens of each cell, e.g. 64,128,256")
      ->required()
      ->delimiter(',')
      ->check(positiveWhole());
  app->add_option("--depths", o->depths,
                  "Comma-separated depths of the needle in the haystack, 0 (start) .. 1 (end)")
      ->delimiter(',');
  app->add_option("--methods", o->methods, "Comma-separated methods (default: all registered)")
      ->delimiter(',');
  app->add_option("--budgets", o->budgets, "Comma-separated budgets (fractions)")->delimiter(',');
  app->add_option("--haystack", o->haystack,
                  "The filler text: a file's non-blank lines not starting with '#', joined "
                  "(default: the checkout's data/prompts/tinystories_prompts.txt)")
      ->check(nonEmptyPath());
  o->needleOption = app->add_option(
      "--needle", o->needle,
      "The fact hidden in the haystack (default: \"" + eval::defaultNeedle().needle + "\")");
  o->questionOption =
      app->add_option("--question", o->question, "The question that asks for the needle");
  o->answerOption = app->add_option("--answer", o->answer, "The expected answer");
  app->add_option("--needle-file", o->needleFile,
                  "A JSON file: {\"needle\", \"question\", \"answer\"} or a list of them")
      ->check(nonEmptyPath())
      ->excludes(o->needleOption)
      ->excludes(o->questionOption)
      ->excludes(o->answerOption);
  app->add_option("--max-new-tokens", o->maxNewTokens,
                  "Tokens of the greedy answer at most (default: 16)")
      ->check(positiveWhole());
  app->add_flag("--chat", o->chat,
                "Wrap the prompt in LongBench's [INST]...[/INST] (a Llama-2-chat model)");
  app->add_option("--out", o->out,
                  "The records file (JSON lines, one per cell and setting); an existing one is "
                  "resumed")
      ->required()
      ->check(nonEmptyPath());
  app->add_flag("--json", o->json, "The grid as JSON: one object per setting, depth and length");
  addEvalH5Option(*app, o->h5);
  addCompressionOptions(*app, o->compression);
  return {app, [o] { return runNeedle(*o); }};
}

}  // namespace kvs::cli
