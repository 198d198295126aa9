// kvstudio-cli analyze --batch: the per-layer compression ratio over many recordings or prompts
// (the paper's second observation) with its spread, as CSV.

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "cache/kv_cache.h"
#include "cli/analyze_common.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "io/output_path.h"
#include "io/text_file.h"
#include "model/layer_observer.h"
#include "model/model_loader.h"
#include "session/request.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

namespace kvs::cli {
namespace {

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
  requireRegularFile(o.promptsFile, "prompts file");  // a FIFO would block the read
  const auto model = loadModel(o.model);
  const Tokenizer tokenizer = locateTokenizer(o.model, o.tokenizer, model->config().vocabSize);
  std::ifstream in(o.promptsFile);
  require(in.good(), "cannot read the prompts file " + o.promptsFile);
  std::vector<std::vector<double>> ratios;
  int index = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    const std::vector<int> ids = tokenizer.encode(line);
    requirePromptFits(static_cast<int>(ids.size()), model->config().seqLen,
                      "prompt " + std::to_string(index + 1) + " of " + o.promptsFile);
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
    drawProgressLine("prompt " + std::to_string(index));
  }
  endProgressLine();
  require(!ratios.empty(), "the prompts file " + o.promptsFile + " holds no prompt");
  return ratios;
}

}  // namespace

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
      // An error thrown here is printed by cli_app's fail(), which ends the progress line first.
      const RecordingReader reader = openRecording(o.files[i]);
      ratios.push_back(layerRatios(
          fromRecording(reader, source, analysedTokens(reader, o.allTokens)), o.thresholds));
      names.push_back(o.files[i]);
      drawProgressLine(std::to_string(i + 1) + "/" + std::to_string(o.files.size()) +
                       " recordings");
    }
    endProgressLine();
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

}  // namespace kvs::cli
