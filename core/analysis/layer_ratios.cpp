#include "analysis/layer_ratios.h"

#include <ATen/ATen.h>

#include <fstream>

#include "cache/kv_cache.h"
#include "model/layer_observer.h"
#include "model/llama_model.h"
#include "session/prefill_state.h"
#include "session/request.h"
#include "util/error.h"

namespace kvs {
namespace {

// Reduces each layer to its ratio when the layer's attention passes ("k" comes before "attn").
class RatioObserver : public LayerObserver {
 public:
  RatioObserver(const MergeThresholds& t, int kvHeads, int layers,
                const std::function<bool()>& keepGoing)
      : t_(t), kvHeads_(kvHeads), ratios_(layers, 0.0), keepGoing_(keepGoing) {}

  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override {
    if (name == "k") {
      if (keepGoing_ && !keepGoing_()) throw KvsError("cancelled");
      keys_ = tensor.to(at::kCPU, at::kFloat).clone();  // [Hkv, T, D]
    } else if (name == "attn") {
      ratios_.at(layer) = layerCompressionRatio(
          keys_, accumulatedAttention(tensor.to(at::kCPU, at::kFloat), kvHeads_), t_);
    }
  }
  bool wantsAttention() const override { return true; }
  const std::vector<double>& ratios() const { return ratios_; }

 private:
  MergeThresholds t_;
  int kvHeads_;
  at::Tensor keys_;
  std::vector<double> ratios_;
  const std::function<bool()>& keepGoing_;
};

}  // namespace

MergeThresholds thresholdsFor(const CompressionParams& params) {
  CompressionParams p = params;
  p.method = "kvmerger";  // the paper's defaults for the recent / protected fractions
  MergeThresholds t;
  t.eps = p.eps;
  t.recentRatio = p.effectiveRecentRatio();
  t.protectedRatio = p.effectiveProtectedRatio();
  return t;
}

std::vector<std::string> readPromptsFile(const std::string& path) {
  std::ifstream in(path);
  require(in.good(), "cannot read the prompts file " + path);
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    prompts.push_back(line);
  }
  require(!prompts.empty(), "the prompts file " + path + " holds no prompt");
  return prompts;
}

std::vector<double> keptLayerRatios(const PrefillState& state, const MergeThresholds& t) {
  const KvCache& cache = state.cache(GqaReduction::kMean);
  std::vector<double> ratios;
  for (int l = 0; l < cache.nLayers(); ++l) {
    std::vector<std::vector<double>> attention;
    for (int h = 0; h < cache.nKvHeads(); ++h) attention.push_back(attentionOf(cache.cells(l, h)));
    ratios.push_back(layerCompressionRatio(cache.keys(l).to(at::kCPU, at::kFloat), attention, t));
  }
  return ratios;
}

std::vector<double> promptLayerRatios(const LlamaModel& model, const std::vector<int>& ids,
                                      const MergeThresholds& t,
                                      const std::function<bool()>& keepGoing) {
  const ModelConfig& c = model.config();
  requirePromptFits(static_cast<int>(ids.size()), c.seqLen);
  KvCache cache = model.makeCache();
  RatioObserver observer(t, c.nKvHeads, c.nLayers, keepGoing);
  model.forward(ids, cache, LogitsMode::kLast, &observer);
  return observer.ratios();
}

}  // namespace kvs
