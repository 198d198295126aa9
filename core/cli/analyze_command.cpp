// kvstudio-cli analyze: key similarity and merging sets from a recording, without the model; or,
// with --batch, the per-layer compression ratio over many recordings or prompts (the paper's
// second observation) with its spread.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "analysis/merge_analysis.h"
#include "analysis/similarity.h"
#include "cache/kv_cache.h"
#include "cli/commands.h"
#include "cli/validators.h"
#include "io/recording_reader.h"
#include "io/text_file.h"
#include "model/layer_observer.h"
#include "model/llama_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

struct AnalyzeOptions {
  std::vector<std::string> files;
  int layer = 0;
  int head = -1;  // -1 with meanHeads; otherwise 0 by default
  bool meanHeads = false;
  std::string source = "keys";
  bool allTokens = false;
  MergeThresholds thresholds;
  std::string similarityCsv, adjacentCsv, setsCsv, ratiosCsv;
  bool batch = false;
  std::string model, tokenizer, promptsFile;
};

std::string csvText(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Keys [Hkv, T, D] of every layer and the attention of the analysed tokens, from one source.
struct LayerStates {
  std::vector<at::Tensor> keys;                             // [L] of [Hkv, T, D]
  std::vector<std::vector<std::vector<double>>> attention;  // [L][Hkv][T], or empty
};

LayerStates fromRecording(const RecordingReader& r, StateSource source, int T) {
  LayerStates s;
  const bool attention = r.info().hasAttention && T == r.info().promptTokens;
  for (int l = 0; l < r.info().layers; ++l) {
    s.keys.push_back(r.states(source, l).narrow(1, 0, T));
    if (attention) s.attention.push_back(accumulatedAttention(r.attention(l), r.info().kvHeads));
  }
  return s;
}

int analysedTokens(const RecordingReader& r, bool allTokens) {
  const int T = allTokens ? r.info().tokens : std::min(r.info().promptTokens, r.info().tokens);
  require(T >= 2, r.path() + " holds " + std::to_string(T) + " tokens; at least 2 are needed");
  return T;
}

std::vector<double> layerRatios(const LayerStates& s, const MergeThresholds& t) {
  static const std::vector<std::vector<double>> none;
  std::vector<double> ratios;
  for (size_t l = 0; l < s.keys.size(); ++l) {
    ratios.push_back(
        layerCompressionRatio(s.keys[l], s.attention.empty() ? none : s.attention[l], t));
  }
  return ratios;
}

std::vector<int> headsOf(const AnalyzeOptions& o, int kvHeads) {
  if (o.meanHeads || o.head < 0) {
    std::vector<int> all(kvHeads);
    for (int h = 0; h < kvHeads; ++h) all[h] = h;
    return all;
  }
  require(o.head < kvHeads, "--head " + std::to_string(o.head) +
                                " is not a KV head; this model has " + std::to_string(kvHeads) +
                                " (0-" + std::to_string(kvHeads - 1) + ")");
  return {o.head};
}

void writeSimilarity(const AnalyzeOptions& o, const at::Tensor& keys /*[Hkv,T,D]*/) {
  const auto heads = headsOf(o, int(keys.size(0)));
  at::Tensor sim = cosineSimilarityMatrix(keys[heads[0]]);
  for (size_t i = 1; i < heads.size(); ++i) sim += cosineSimilarityMatrix(keys[heads[i]]);
  sim = (sim / double(heads.size())).contiguous();  // [T, T]
  const int64_t T = sim.size(0);
  std::ostringstream out;
  out << std::setprecision(6) << "token";
  for (int64_t j = 0; j < T; ++j) out << ',' << j;
  out << '\n';
  const float* p = sim.data_ptr<float>();
  for (int64_t i = 0; i < T; ++i) {
    out << i;
    for (int64_t j = 0; j < T; ++j) out << ',' << p[i * T + j];
    out << '\n';
  }
  writeTextFile(o.similarityCsv, out.str());
}

void writeAdjacent(const AnalyzeOptions& o, const at::Tensor& keys,
                   const std::vector<std::string>& pieces) {
  const auto heads = headsOf(o, int(keys.size(0)));
  std::vector<std::vector<float>> curves;
  for (int h : heads) curves.push_back(adjacentCosine(keys[h]));
  std::ostringstream out;
  out << std::setprecision(6) << "position,piece,next_piece";
  for (int h : heads) out << ",head_" << h;
  out << ",mean\n";
  for (size_t i = 0; i < curves[0].size(); ++i) {
    double mean = 0;
    out << i << ',' << csvText(pieces[i]) << ',' << csvText(pieces[i + 1]);
    for (const auto& c : curves) {
      out << ',' << c[i];
      mean += c[i] / curves.size();
    }
    out << ',' << mean << '\n';
  }
  writeTextFile(o.adjacentCsv, out.str());
}

void writeSets(const AnalyzeOptions& o, const LayerStates& s) {
  const at::Tensor& keys = s.keys[o.layer];
  std::ostringstream out;
  out << "layer,head,set,first,last,size,protected\n";
  for (int h : headsOf(o, int(keys.size(0)))) {
    const HeadSets sets = identifyHeadSets(
        keys[h], s.attention.empty() ? std::vector<double>{} : s.attention[o.layer][h],
        o.thresholds);
    for (size_t i = 0; i < sets.sets.size(); ++i) {
      const MergingSet& m = sets.sets[i];
      out << o.layer << ',' << h << ',' << i << ',' << m.first << ',' << m.last << ',' << m.size()
          << ',' << int(m.size() == 1 && sets.isProtected[m.first]) << '\n';
    }
  }
  writeTextFile(o.setsCsv, out.str());
}

int analyzeOne(const AnalyzeOptions& o) {
  require(o.files.size() == 1, "analyze takes one recording, or --batch FILE...");
  const RecordingReader reader(o.files[0]);
  const RecordingInfo& info = reader.info();
  if (!info.complete) {
    std::cerr << "note: " << o.files[0] << " is incomplete (the recording was interrupted); "
              << "analysing the " << info.tokens << " tokens it holds\n";
  }
  require(o.layer >= 0 && o.layer < info.layers,
          "--layer " + std::to_string(o.layer) + " is not in " + o.files[0] +
              ", which has layers 0-" + std::to_string(info.layers - 1));
  const StateSource source = parseStateSource(o.source);
  const int T = analysedTokens(reader, o.allTokens);
  const LayerStates s = fromRecording(reader, source, T);
  if (s.attention.empty()) {
    std::cerr << "note: no prompt attention in the recording, so only the recent tokens are "
                 "protected (record with --record-attention to protect heavy hitters too)\n";
  }
  if (!o.similarityCsv.empty()) writeSimilarity(o, s.keys[o.layer]);
  if (!o.adjacentCsv.empty()) writeAdjacent(o, s.keys[o.layer], info.tokenPieces);
  if (!o.setsCsv.empty()) writeSets(o, s);
  const std::vector<double> ratios = layerRatios(s, o.thresholds);
  std::ostringstream table;
  table << "layer,compression_ratio,mean_adjacent_cosine\n";
  for (size_t l = 0; l < ratios.size(); ++l) {
    double adjacent = 0;
    const int64_t H = s.keys[l].size(0);
    for (int64_t h = 0; h < H; ++h) {
      for (float c : adjacentCosine(s.keys[l][h])) adjacent += c / (double(H) * (T - 1));
    }
    table << l << ',' << ratios[l] << ',' << adjacent << '\n';
  }
  if (!o.ratiosCsv.empty()) writeTextFile(o.ratiosCsv, table.str());
  std::printf("%s: %d %s tokens of %s, eps %.3g, recent %.2f, protected %.2f\n", o.files[0].c_str(),
              T, o.allTokens ? "recorded" : "prompt", toString(source), o.thresholds.eps,
              o.thresholds.recentRatio, o.thresholds.protectedRatio);
  std::printf("%5s %18s %22s\n", "layer", "compression ratio", "mean adjacent cosine");
  std::istringstream rows(table.str());
  std::string line;
  std::getline(rows, line);  // header
  for (int l = 0; std::getline(rows, line); ++l) {
    double ratio = 0, adjacent = 0;
    std::sscanf(line.c_str(), "%*d,%lf,%lf", &ratio, &adjacent);
    std::printf("%5d %18.4f %22.4f\n", l, ratio, adjacent);
  }
  return 0;
}

// Keys after RoPE and the prompt's attention, collected during a prefill.
class PrefillCollector : public LayerObserver {
 public:
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    if (name == "k") keys[layer] = t.clone();
    if (name == "attn") attention[layer] = accumulatedAttention(t, int(t.size(0)) / groupSize);
  }
  bool wantsAttention() const override { return true; }
  std::map<int, at::Tensor> keys;
  std::map<int, std::vector<std::vector<double>>> attention;
  int groupSize = 1;
};

std::vector<std::vector<double>> batchFromPrompts(const AnalyzeOptions& o,
                                                  std::vector<std::string>& names) {
  require(!o.model.empty() && !o.promptsFile.empty(),
          "--batch runs either recordings (FILE...) or --model M --prompts-file P");
  const auto model = loadModel(o.model);
  const Tokenizer tokenizer = locateTokenizer(o.model, o.tokenizer, model->config().vocabSize);
  std::ifstream in(o.promptsFile);
  require(in.good(), "cannot read the prompts file " + o.promptsFile);
  std::vector<std::vector<double>> ratios;
  int index = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    const std::vector<int> ids = tokenizer.encode(line);
    require(int(ids.size()) <= model->config().seqLen,
            "prompt " + std::to_string(index + 1) + " is longer than the model's context");
    KvCache cache = model->makeCache();
    PrefillCollector collector;
    collector.groupSize = model->config().groupSize();
    model->forward(ids, cache, LogitsMode::kLast, &collector);
    LayerStates s;
    for (int l = 0; l < model->config().nLayers; ++l) {
      s.keys.push_back(collector.keys[l]);
      s.attention.push_back(collector.attention[l]);
    }
    ratios.push_back(layerRatios(s, o.thresholds));
    names.push_back("prompt_" + std::to_string(++index));
    std::fprintf(stderr, "\rprompt %d", index);
  }
  std::fputc('\n', stderr);
  require(!ratios.empty(), "the prompts file " + o.promptsFile + " holds no prompt");
  return ratios;
}

int analyzeBatch(const AnalyzeOptions& o) {
  std::vector<std::vector<double>> ratios;
  std::vector<std::string> names;
  if (o.files.empty()) {
    ratios = batchFromPrompts(o, names);
  } else {
    require(o.model.empty() && o.promptsFile.empty(),
            "--batch takes recordings or --model with --prompts-file, not both");
    const StateSource source = parseStateSource(o.source);
    for (size_t i = 0; i < o.files.size(); ++i) {
      const RecordingReader reader(o.files[i]);
      ratios.push_back(layerRatios(
          fromRecording(reader, source, analysedTokens(reader, o.allTokens)), o.thresholds));
      names.push_back(o.files[i]);
      std::fprintf(stderr, "\r%zu/%zu recordings", i + 1, o.files.size());
    }
    std::fputc('\n', stderr);
  }
  const LayerSpread spread = summarizeLayers(ratios);
  std::ostringstream csv;
  csv << std::setprecision(6) << "layer,mean,std,min,max";
  for (const auto& n : names) csv << ',' << csvText(n);
  csv << '\n';
  for (size_t l = 0; l < spread.mean.size(); ++l) {
    csv << l << ',' << spread.mean[l] << ',' << spread.stddev[l] << ',' << spread.min[l] << ','
        << spread.max[l];
    for (const auto& r : ratios) csv << ',' << r[l];
    csv << '\n';
  }
  if (o.ratiosCsv.empty()) {
    std::cout << csv.str();
  } else {
    writeTextFile(o.ratiosCsv, csv.str());
    std::cerr << "wrote per-layer ratios of " << ratios.size() << " prompts to " << o.ratiosCsv
              << "\n";
  }
  return 0;
}

}  // namespace

Action addAnalyzeCommand(CLI::App& app) {
  auto o = std::make_shared<AnalyzeOptions>();
  app.add_option("files", o->files, "Recording(s) made with --record (HDF5)");
  app.add_flag("--batch", o->batch,
               "Per-layer compression ratio over many recordings (or --model + --prompts-file), "
               "with mean, std, min and max per layer, as CSV");
  app.add_option("--layer", o->layer, "Layer for --similarity, --adjacent and --sets (default 0)")
      ->check(nonNegativeWhole());
  app.add_option("--head", o->head, "One KV head (default: every head)")->check(nonNegativeWhole());
  app.add_flag("--mean-heads", o->meanHeads, "Average the similarity over the KV heads");
  app.add_option("--source", o->source, "keys (after RoPE), keys-prerope or values")
      ->check(CLI::IsMember({"keys", "keys-prerope", "values"}));
  app.add_flag("--all-tokens", o->allTokens, "Analyse every recorded token, not just the prompt's");
  app.add_option("--eps", o->thresholds.eps,
                 "Merging threshold on the adjacent cosine (default 0.75)")
      ->check(numberWhere<double>([](double v) { return v >= -1 && v <= 1.0001; },
                                  "must be in [-1, 1.0001]"));
  app.add_option("--recent", o->thresholds.recentRatio,
                 "Fraction of most recent tokens never merged (default 0.17)")
      ->check(numberWhere<double>([](double v) { return v >= 0 && v <= 1; }, "must be in [0, 1]"));
  app.add_option("--protected", o->thresholds.protectedRatio,
                 "Fraction of top-attention tokens never merged (default 0.12; needs attention "
                 "in the recording)")
      ->check(numberWhere<double>([](double v) { return v >= 0 && v <= 1; }, "must be in [0, 1]"));
  app.add_option("--similarity", o->similarityCsv, "Write the [T, T] cosine similarity (CSV)");
  app.add_option("--adjacent", o->adjacentCsv, "Write the adjacent-similarity curve (CSV)");
  app.add_option("--sets", o->setsCsv, "Write the merging sets of the layer (CSV)");
  app.add_option("--ratios", o->ratiosCsv, "Write the per-layer compression ratios (CSV)");
  app.add_option("--model", o->model, "With --batch: run the prompts through this model");
  app.add_option("--tokenizer", o->tokenizer, "With --model: the tokenizer");
  app.add_option("--prompts-file", o->promptsFile, "With --batch --model: one prompt per line");
  return [o] {
    require(!o->meanHeads || o->head < 0, "--head and --mean-heads exclude each other");
    return o->batch ? analyzeBatch(*o) : analyzeOne(*o);
  };
}

}  // namespace kvs::cli
