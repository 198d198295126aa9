// kvstudio-cli analyze: key similarity and merging sets from a recording, without the model; or,
// with --batch (analyze_batch.cpp), the per-layer compression ratio over many recordings or
// prompts with its spread.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>
#include <utility>

#include "analysis/similarity.h"
#include "cli/analyze_common.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/validators.h"
#include "io/output_path.h"
#include "io/recording_check.h"
#include "io/text_file.h"
#include "util/error.h"

namespace kvs::cli {

std::string csvText(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

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
  const RecordingInfo& info = r.info();
  require(info.tokens >= 2,
          r.path() + " holds the states of " + std::to_string(info.tokens) +
              " tokens; at least 2 are needed" +
              (info.complete ? " (damaged recording?)" : " (the recording was cut short)"));
  if (allTokens) return info.tokens;
  require(info.promptTokens >= 2,
          "the prompt of " + r.path() + " has " + std::to_string(info.promptTokens) +
              " tokens; at least 2 are needed: pass --all-tokens to analyse all " +
              std::to_string(info.tokens) + " recorded tokens");
  if (info.tokens < info.promptTokens) {
    endProgressLine();
    std::cerr << "note: " << r.path() << " holds the states of " << info.tokens << " of the "
              << "prompt's " << info.promptTokens << " tokens; analysing those\n";
  }
  return std::min(info.promptTokens, info.tokens);
}

RecordingReader openRecording(const std::string& path) {
  checkRecording(path);
  RecordingReader reader(path);
  const RecordingInfo& info = reader.info();
  if (info.complete && info.missing.empty()) return reader;
  std::string lacks;
  for (size_t i = 0; i < info.missing.size(); ++i) {
    lacks += (i == 0 ? "" : i + 1 == info.missing.size() ? " and " : ", ") + info.missing[i];
  }
  endProgressLine();
  std::cerr << "note: " << path << " is "
            << (info.complete ? "damaged" : "incomplete (the recording was interrupted)");
  if (!lacks.empty()) std::cerr << "; it lacks " << lacks;
  std::cerr << "; analysing the " << info.tokens << " tokens it holds\n";
  return reader;
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

namespace {

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

// The recorded piece of a position; "?" where the file lacks it (RecordingInfo::missing says so).
const std::string& pieceAt(const std::vector<std::string>& pieces, size_t i) {
  static const std::string unknown = "?";
  return i < pieces.size() ? pieces[i] : unknown;
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
    out << i << ',' << csvText(pieceAt(pieces, i)) << ',' << csvText(pieceAt(pieces, i + 1));
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
  const RecordingReader reader = openRecording(o.files[0]);
  const RecordingInfo& info = reader.info();
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

// Every output named, checked before any work: never replaced without --force, never a device,
// link or folder, never one of the files read, never two outputs in one file.
void checkOutputs(const AnalyzeOptions& o) {
  std::vector<std::string> inputs = o.files;
  for (const std::string* input : {&o.model, &o.tokenizer, &o.promptsFile}) {
    if (!input->empty()) inputs.push_back(*input);
  }
  const std::pair<const char*, const std::string*> outputs[] = {{"--similarity", &o.similarityCsv},
                                                                {"--adjacent", &o.adjacentCsv},
                                                                {"--sets", &o.setsCsv},
                                                                {"--ratios", &o.ratiosCsv}};
  for (size_t i = 0; i < std::size(outputs); ++i) {
    const std::string& path = *outputs[i].second;
    if (path.empty()) continue;
    checkOutputPath(path, o.force, inputs, "CSV file");
    for (size_t j = 0; j < i; ++j) {
      require(path != *outputs[j].second, std::string(outputs[j].first) + " and " +
                                              outputs[i].first + " both name " + path +
                                              "; give each output its own file");
    }
  }
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
  app.add_flag("--force", o->force, "Replace output files that exist");
  app.add_option("--model", o->model, "With --batch: run the prompts through this model");
  app.add_option("--tokenizer", o->tokenizer, "With --model: the tokenizer");
  app.add_option("--prompts-file", o->promptsFile, "With --batch --model: one prompt per line");
  return [o] {
    require(!o->meanHeads || o->head < 0, "--head and --mean-heads exclude each other");
    checkOutputs(*o);
    return o->batch ? analyzeBatch(*o) : analyzeOne(*o);
  };
}

}  // namespace kvs::cli
