// kvstudio-cli compare: every (method, budget) variant of each prompt against the full cache, or
// with --sweep every method at each value of one parameter (compare_sweep.h).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/compare_sweep.h"
#include "cli/compression_options.h"
#include "cli/model_options.h"
#include "cli/progress_line.h"
#include "cli/record_options.h"
#include "cli/validators.h"
#include "compress/compression_method.h"
#include "kvs/version.h"
#include "model/llama_model.h"
#include "session/comparison.h"
#include "session/session.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

struct CompareOptions {
  ModelOptions model;
  std::string tokenizer, prompt, promptsFile;
  std::vector<std::string> methods = comparedByDefault();
  std::vector<double> budgets = {0.5, 0.35};
  int steps = 0;  // 0: each prompt's length + newTokens
  int newTokens = 64;
  bool json = false, csv = false;
  CompressionOptions compression;  // the other parameters, shared by all variants
  RecordCliOptions record;
  SweepCliOptions sweep;
};

// One recording per prompt: FILE itself for one prompt, FILE_p001.h5, FILE_p002.h5, ... for more.
std::string recordingPath(const std::string& path, size_t prompt, size_t prompts) {
  if (prompts == 1) return path;
  const auto dot = path.rfind('.');
  const bool ext = dot != std::string::npos && path.find('/', dot) == std::string::npos;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_p%03zu", prompt + 1);
  return ext ? path.substr(0, dot) + suffix + path.substr(dot) : path + suffix;
}

std::vector<std::string> readPrompts(const CompareOptions& o) {
  if (!o.prompt.empty()) return {o.prompt};
  std::ifstream in(o.promptsFile);
  require(in.good(), "cannot read the prompts file " + o.promptsFile +
                         " (one prompt per line; lines starting with # are comments)");
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    prompts.push_back(line);
  }
  require(!prompts.empty(), "the prompts file " + o.promptsFile + " holds no prompt");
  return prompts;
}

void progressBar(int done, int total) {
  const int width = 30, filled = total > 0 ? done * width / total : width;
  drawProgressLine("[" + std::string(filled, '#') + std::string(width - filled, ' ') + "] " +
                   std::to_string(done) + "/" + std::to_string(total) + " variants");
  if (done == total) endProgressLine();
}

struct Row {
  int prompt;
  std::string method;
  double budget;
  VariantOutcome outcome;
  std::string text;
  nlohmann::json sweepValue;  // the swept parameter's value; null for the full cache or no sweep
};

int runCompare(const CompareOptions& o) {
  require(o.prompt.empty() != o.promptsFile.empty(), "give either --prompt or --prompts-file");
  const auto session = Session::open(o.model.model, o.model.resolve(), o.tokenizer);
  const LlamaModel* const model = &session->model();  // a pointer: the lines below read model->
  const Tokenizer& tokenizer = session->tokenizer();
  const CompressionParams shared = o.compression.resolve();  // what recordings and JSON report
  // The full cache is always measured as the reference; the variants are the grid.
  const std::optional<SweepPlan> plan = sweepPlanOf(o.sweep, o.compression, o.methods, *model);
  const std::vector<CompressionParams> variants =
      plan ? plan->variants : settingsGrid(o.compression, o.methods, o.budgets, *model, "compare");
  std::vector<std::pair<std::string, double>> labels;
  for (const CompressionParams& p : variants) labels.push_back({p.method, p.budget});
  const auto prompts = readPrompts(o);
  const int total = static_cast<int>(prompts.size() * variants.size());
  // Every file the recording will write is checked before any work (exit 2 when one cannot be).
  std::vector<std::string> recordInputs = recordingInputs(o.model.model, tokenizer.path());
  if (!o.promptsFile.empty()) recordInputs.push_back(o.promptsFile);
  const RecordingOptions recording =
      o.record.resolve(recordInputs, model->config(), prompts.size() == 1);
  checkPlotOutput(o.sweep, o.record.recording.overwrite, recordInputs);
  if (o.record.enabled() && prompts.size() > 1) {
    for (size_t i = 0; i < prompts.size(); ++i) {
      RecordCliOptions each = o.record;
      each.recording.path = recordingPath(recording.path, i, prompts.size());
      each.resolve(recordInputs, model->config());
    }
  }
  bool recordedAll = true;
  std::vector<Row> rows;
  std::vector<std::vector<VariantOutcome>> sweepOutcomes;  // [prompt][variant], for the summary
  for (size_t i = 0; i < prompts.size(); ++i) {
    PromptSpec spec;
    spec.text = prompts[i];
    spec.steps = o.steps;
    spec.newTokens = o.newTokens;
    spec.sampling.temperature = 0.0f;  // compare is greedy and decodes every step
    spec.stopAtBosEos = false;
    spec.stepsName = "--steps";
    spec.newTokensName = "--new-tokens";
    spec.name = "prompt " + std::to_string(i + 1);
    spec.promptFix = "pass --prompt TEXT";
    std::vector<std::string> notes;
    const GenerationRequest request = session->request(spec, &notes);
    for (const std::string& note : notes)
      std::cerr << "note: " << spec.name << ": " << note << "\n";
    const int P = static_cast<int>(request.promptIds.size());
    const int base = static_cast<int>(i * variants.size());
    std::unique_ptr<Hdf5Recorder> recorder;
    std::string recordError;
    ComparisonHooks hooks;
    if (o.record.enabled()) {
      RecordingOptions each = recording;
      each.path = recordingPath(recording.path, i, prompts.size());
      const nlohmann::json settings = {{"steps", request.steps},
                                       {"dtype", dtypeName(model->weightDtype())},
                                       {"kv_dtype", dtypeName(model->kvDtype())},
                                       {"parameters", toJson(shared)}};
      // The checkpoint is hashed for the first prompt only.
      recorder = startRecording(
          each, session->describeRun(prompts[i], request, "compare", settings), &recordError);
      hooks.referenceObserver = recorder.get();
      hooks.onReferenceToken = [&](int token) {
        if (recorder) recorder->appendToken(token, tokenizer.piece(token));
      };
      hooks.keepCells = true;
    }
    const auto outcomes = compareVariants(
        *model, request.promptIds, request.steps, variants,
        [&](int done, int) {
          progressBar(base + done, total);
          return true;
        },
        hooks);
    if (o.record.enabled()) {
      for (const VariantOutcome& v : outcomes) {
        if (recorder) {
          recorder->addVariant({variantName(v.params), v.params, v.generatedIds, &v.cells,
                                variantFiguresJson(v).dump()});
        }
      }
      recordedAll = finishRecording(recorder.get(), recordError) && recordedAll;
    }
    for (size_t v = 0; v < outcomes.size(); ++v) {
      const auto& label = v == 0 ? std::make_pair(std::string("full"), 1.0) : labels[v - 1];
      const nlohmann::json value =
          plan && v > 0 ? plan->sweep.values[(v - 1) % plan->points()] : nlohmann::json();
      rows.push_back({static_cast<int>(i), label.first, label.second, outcomes[v],
                      decodeStream(tokenizer, outcomes[v].generatedIds, P <= 1), value});
    }
    if (plan) sweepOutcomes.push_back(outcomes);
  }
  std::optional<SweepCurves> curves;
  if (plan) curves = summarizeSweep(*plan, sweepOutcomes);
  // A budget sweep's value is the budget column; another parameter gets a column of its own.
  const bool valueColumn = plan && plan->sweep.key != "budget";
  if (o.json || !o.sweep.plot.empty()) {
    nlohmann::ordered_json out;
    out["app_version"] = kVersion;
    out["model"] = o.model.model;
    out["dtype"] = dtypeName(model->weightDtype());
    out["kv_dtype"] = dtypeName(model->kvDtype());
    out["tokenizer"] = tokenizer.path();
    out["parameters"] = toJson(shared);
    out["prompts"] = prompts;
    for (const Row& r : rows) {
      out["variants"].push_back({{"prompt", r.prompt},
                                 {"method", r.method},
                                 {"budget", r.budget},
                                 {"parameters", toJson(r.outcome.params)},
                                 {"generated_token_ids", r.outcome.generatedIds},
                                 {"text", r.text},
                                 {"mean_kl", r.outcome.meanKl},
                                 {"max_kl", r.outcome.maxKl},
                                 {"top1_agreement", r.outcome.top1Agreement},
                                 {"nll", r.outcome.nll},
                                 {"kv_bytes", r.outcome.kvBytes},
                                 {"kv_bytes_full", r.outcome.kvBytesFull},
                                 {"achieved_ratio", r.outcome.achievedRatio},
                                 {"eps_used", epsUsed(r.outcome.decisions)},
                                 {"protected_released", protectedReleased(r.outcome.decisions)},
                                 {"seconds", r.outcome.seconds}});
      if (valueColumn) out["variants"].back()[plan->sweep.key] = r.sweepValue;
    }
    if (curves) out["sweep"] = sweepJson(*curves);
    writeSweepPlot(o.sweep, out);
    if (o.json) {
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return recordedAll ? 0 : 1;
    }
  }
  if (o.csv) {
    std::cout << "prompt,method,budget," << (valueColumn ? plan->sweep.key + "," : "")
              << "mean_kl,max_kl,top1_agreement,nll,kv_bytes,kv_bytes_full,"
                 "achieved_ratio,seconds\n";
    for (const Row& r : rows) {
      std::cout << r.prompt << ',' << r.method << ',' << r.budget << ',';
      if (valueColumn) std::cout << (r.sweepValue.is_null() ? "" : r.sweepValue.dump()) << ',';
      std::cout << r.outcome.meanKl << ',' << r.outcome.maxKl << ',' << r.outcome.top1Agreement
                << ',' << r.outcome.nll << ',' << r.outcome.kvBytes << ',' << r.outcome.kvBytesFull
                << ',' << r.outcome.achievedRatio << ',' << r.outcome.seconds << '\n';
    }
    return recordedAll ? 0 : 1;
  }
  if (curves) {
    printSweepTable(*curves);
    return recordedAll ? 0 : 1;
  }
  // A table of means over the prompts.
  std::map<std::pair<std::string, double>, std::vector<const Row*>> groups;
  std::vector<std::pair<std::string, double>> order;
  for (const Row& r : rows) {
    const auto key = std::make_pair(r.method, r.budget);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&r);
  }
  std::printf("%-10s %6s %9s %9s %8s %8s %10s %7s\n", "method", "budget", "mean KL", "max KL",
              "top-1", "NLL", "KV bytes", "kept");
  for (const auto& key : order) {
    double kl = 0, maxKl = 0, top1 = 0, nll = 0, bytes = 0, kept = 0;
    const auto& g = groups[key];
    for (const Row* r : g) {
      kl += r->outcome.meanKl / g.size();
      maxKl = std::max(maxKl, r->outcome.maxKl);
      top1 += r->outcome.top1Agreement / g.size();
      nll += r->outcome.nll / g.size();
      bytes += double(r->outcome.kvBytes) / g.size();
      kept += r->outcome.achievedRatio / g.size();
    }
    std::printf("%-10s %6.2f %9.4f %9.4f %8.3f %8.4f %10.0f %6.1f%%\n", key.first.c_str(),
                key.second, kl, maxKl, top1, nll, bytes, 100 * kept);
  }
  std::printf("(%zu prompt%s; means over prompts, max KL over all steps)\n", prompts.size(),
              prompts.size() == 1 ? "" : "s");
  return recordedAll ? 0 : 1;
}

}  // namespace

Action addCompareCommand(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  addModelOptions(app, o->model);
  app.add_option("--tokenizer", o->tokenizer,
                 "SentencePiece .model file (default: next to the model)")
      ->check(nonEmptyPath());
  app.add_option("--prompt", o->prompt, "One prompt");
  app.add_option("--prompts-file", o->promptsFile, "A file with one prompt per line");
  app.add_option("--methods", o->methods, "Comma-separated methods (default: all registered)")
      ->delimiter(',');
  o->sweep.budgetsOption =
      app.add_option("--budgets", o->budgets, "Comma-separated budgets (fractions)")
          ->delimiter(',');
  CLI::Option* steps = app.add_option("--steps", o->steps,
                                      "Positions per prompt, the prompt's included, as llama2.c's "
                                      "-n (default: what --new-tokens needs)")
                           ->check(positiveWhole());
  app.add_option("--new-tokens", o->newTokens,
                 "Tokens decoded after each prompt (default: 64; capped at the context)")
      ->check(positiveWhole())
      ->excludes(steps);
  app.add_flag("--json", o->json, "One JSON object with every variant");
  app.add_flag("--csv", o->csv, "One CSV row per (prompt, variant)");
  addCompressionOptions(app, o->compression);
  addRecordOptions(app, o->record);
  addSweepOptions(app, o->sweep);
  return [o] { return runCompare(*o); };
}

}  // namespace kvs::cli
