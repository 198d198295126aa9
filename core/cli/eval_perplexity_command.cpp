// kvstudio-cli eval perplexity: the NLL of every token of a text read with the cache kept at a
// fixed size (core/eval/perplexity.h), per method and cache size, against the full cache.

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/compression_options.h"
#include "cli/eval_h5_option.h"
#include "cli/model_options.h"
#include "cli/progress_line.h"
#include "cli/validators.h"
#include "eval/perplexity.h"
#include "io/output_path.h"
#include "io/text_file.h"
#include "model/llama_model.h"
#include "session/session.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

struct PerplexityOptions {
  ModelOptions model;
  std::string tokenizer, text, out, csv;
  std::vector<std::string> methods = {"full", "streaming", "h2o", "kvmerger"};
  std::vector<int> sizes = {64, 128};
  int maxTokens = 0;
  bool json = false, force = false;
  CompressionOptions compression;  // the other parameters, shared by all settings
  EvalH5Option h5;                 // its force is --force
};

nlohmann::ordered_json toJson(const std::vector<eval::PerplexityCurve>& curves, int tokens,
                              const std::string& model) {
  nlohmann::ordered_json out = {
      {"model", model}, {"tokens", tokens}, {"curves", nlohmann::ordered_json::array()}};
  for (const auto& c : curves) out["curves"].push_back(eval::curveJson(c));
  return out;
}

void writeCsv(const std::string& path, const std::vector<eval::PerplexityCurve>& curves) {
  std::string text = "setting,cache_size,position,nll\n";
  for (const auto& c : curves) {
    for (size_t i = 0; i < c.nll.size(); ++i) {
      char row[160];
      std::snprintf(row, sizeof row, "%s,%d,%zu,%.6f\n", c.setting.c_str(), c.budget,
                    c.firstPosition + i, c.nll[i]);
      text += row;
    }
  }
  writeTextFile(path, text);
}

std::string readText(const std::string& path) {
  requireRegularFile(path, "text file");
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read the text file " + path + "; give a readable UTF-8 file");
  std::string text(std::istreambuf_iterator<char>(in), {});
  require(text.find_first_not_of(" \t\r\n") != std::string::npos,
          "the text file " + path + " is empty; give a long text to read");
  return text;
}

int runPerplexity(const PerplexityOptions& o) {
  // Outputs are checked before any work: never replaced without --force, never an input.
  const std::vector<std::string> inputs = {o.model.model, o.tokenizer, o.text};
  if (!o.out.empty()) checkOutputPath(o.out, o.force, inputs, "JSON file");
  if (!o.csv.empty()) checkOutputPath(o.csv, o.force, inputs, "CSV file");
  require(o.out.empty() || o.out != o.csv, "--out and --csv both name " + o.out);
  EvalH5Option h5 = o.h5;
  h5.force = o.force;
  checkEvalH5Option(h5, "perplexity", o.out);
  const std::string text = readText(o.text);
  const auto session = Session::open(o.model.model, o.model.resolve(), o.tokenizer);
  const LlamaModel& model = session->model();
  std::vector<int> ids = session->tokenizer().encode(text, true);
  const int context = model.config().seqLen;
  const int limit = o.maxTokens > 0 ? std::min(o.maxTokens, context) : context;
  if (static_cast<int>(ids.size()) > limit) {
    std::cerr << "note: reading the text's first " << limit << " of " << ids.size() << " tokens ("
              << (o.maxTokens > 0 ? "--max-tokens" : "the model's context") << ")\n";
    ids.resize(limit);
  }
  std::vector<CompressionParams> settings;
  for (CompressionParams p :
       settingsGrid(o.compression, o.methods, {1.0}, model, "eval perplexity")) {
    for (int size : o.sizes) {
      p.budgetTokens = size;
      settings.push_back(p);
    }
  }
  const auto curves = eval::perplexityUnderBudget(model, ids, settings, [](int done, int total) {
    drawProgressLine(std::to_string(done) + "/" + std::to_string(total) + " curves");
    return true;
  });
  endProgressLine();
  const nlohmann::ordered_json json = toJson(curves, static_cast<int>(ids.size()), o.model.model);
  if (!o.out.empty()) writeTextFile(o.out, json.dump(2) + "\n");
  if (!o.csv.empty()) writeCsv(o.csv, curves);
  writeEvalH5Option(h5, "perplexity", o.model.model, o.out, {nlohmann::json::parse(json.dump())});
  if (o.json) {
    std::cout << json.dump(2) << "\n";
    return 0;
  }
  int common = 0;
  for (const auto& c : curves) common = std::max(common, c.firstPosition);
  std::printf("%-28s %10s %10s %9s %12s\n", "setting", "cache", "positions", "mean NLL",
              "perplexity");
  for (const auto& c : curves) {
    std::printf("%-28s %10d %10zu %9.4f %12.3f\n", c.setting.c_str(), c.budget, c.nll.size(),
                c.meanNllCommon, std::exp(c.meanNllCommon));
  }
  std::printf("(%zu tokens; means over positions %d..%zu, which every setting reads)\n", ids.size(),
              common, ids.size() - 1);
  return 0;
}

}  // namespace

Subcommand addEvalPerplexityCommand(CLI::App& eval) {
  CLI::App* app = eval.add_subcommand(
      "perplexity",
      "NLL of every token of a text read with the cache kept at a fixed size (StreamingLLM's "
      "measurement), per method and --cache-sizes, against the full cache");
  auto o = std::make_shared<PerplexityOptions>();
  addModelOptions(*app, o->model);
  app->add_option("--tokenizer", o->tokenizer,
                  "SentencePiece .model file (default: next to the model)")
      ->check(nonEmptyPath());
  app->add_option("--text", o->text, "The text to read (UTF-8)")->required()->check(nonEmptyPath());
  app->add_option("--methods", o->methods,
                  "Comma-separated methods (default: full,streaming,h2o,kvmerger)")
      ->delimiter(',');
  app->add_option("--cache-sizes", o->sizes,
                  "Comma-separated cache sizes, slots per head (default: 64,128)")
      ->delimiter(',')
      ->check(positiveWhole());
  app->add_option("--max-tokens", o->maxTokens,
                  "Read at most this many tokens (default: the "
                  "model's context)")
      ->check(positiveWhole());
  app->add_option("--out", o->out, "Write every curve as JSON")->check(nonEmptyPath());
  app->add_option("--csv", o->csv, "Write every curve as CSV (setting, cache_size, position, nll)")
      ->check(nonEmptyPath());
  app->add_flag("--json", o->json, "Print every curve as JSON");
  CLI::Option* force = app->add_flag(
      "--force", o->force, "Replace --out and --csv files that exist, and --h5's results");
  addEvalH5Option(*app, o->h5, force);
  addCompressionOptions(*app, o->compression);
  return {app, [o] { return runPerplexity(*o); }};
}

}  // namespace kvs::cli
