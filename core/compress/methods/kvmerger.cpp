// KVMerger (arXiv 2407.08454): merging sets of adjacent tokens with similar keys, each merged
// into its pivot with Gaussian-kernel weights (kvmerger-spec.md sections 2, 3 and 5).

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "compress/merging_sets.h"
#include "util/error.h"

namespace kvs {
namespace {

struct Layout {
  SetDecision decision;
  std::vector<double> attention;  // per slot, used to choose pivots
};

// Protection and sets from one cosine curve and one attention vector (a head's, or a layer's
// mean in the shared layout).
Layout findSets(const std::vector<float>& cos, std::vector<double> attention,
                const CompressionParams& p, int target) {
  const int S = static_cast<int>(attention.size());
  SetDecision decision = decideMergingSets(cos, attention, p.recentCount(S), p.protectedCount(S),
                                           target, p.exactBudget, p.eps);
  return {std::move(decision), std::move(attention)};
}

// keys: [S, D]; undefined for a slots-only plan (no weights, so no key is read).
HeadPlan mergeHead(const std::vector<Slot>& old, const at::Tensor& keys, const Layout& layout,
                   const CompressionParams& p) {
  HeadPlan plan;
  plan.decision = {layout.decision.eps, layout.decision.releasedProtected};
  plan.isProtected = layout.decision.isProtected;
  plan.slotsOnly = !keys.defined();
  const at::Tensor k = plan.slotsOnly ? keys : keys.to(at::kCPU, at::kFloat).contiguous();
  for (const MergingSet& set : layout.decision.sets) {
    if (set.size() == 1) {
      plan.addEntry(set.first, 1.0f, 1.0f);
      plan.closeSlot(old[set.first]);
      continue;
    }
    GaussianMerge m;
    if (plan.slotsOnly) {
      m.pivot = pivotOf(layout.attention, set);
      m.weights.assign(set.size(), 0.0f);
    } else {
      m = gaussianMerge(k.data_ptr<float>(), k.size(1), layout.attention, set, p.sigma,
                        p.sigmaMode);
    }
    const float valueScale = p.scaleValues ? static_cast<float>(set.size()) : 1.0f;
    Slot merged{old[set.first].first, old[set.last].last, old[m.pivot].pivot, 0, 0.0};
    for (int j = set.first; j <= set.last; ++j) {
      const float w = m.weights[j - set.first];
      plan.addEntry(j, w, valueScale * w);
      merged.count += old[j].count;
      merged.attention += old[j].attention;
    }
    plan.closeSlot(merged);
  }
  return plan;
}

class KVMergerPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, int layer) const override;
};

}  // namespace

std::vector<HeadPlan> KVMergerPolicy::planLayer(const KvCache& cache, int l) const {
  std::vector<HeadPlan> heads;
  {
    params_.validateForModel(cache.nLayers());
    if (std::find(params_.skipLayers.begin(), params_.skipLayers.end(), l) !=
        params_.skipLayers.end()) {
      return heads;  // kept full
    }
    at::Tensor keys;  // [Hkv, Smax, D] on the CPU, read only when needed
    auto headKeys = [&](int h) {
      if (!keys.defined()) keys = cache.keys(l).to(at::kCPU);
      return keys[h].narrow(0, 0, cache.cells(l, h).size());
    };
    // What mergeHead merges with: nothing for a slots-only plan.
    auto mergeKeys = [&](int h) { return slotsOnly_ ? at::Tensor() : headKeys(h); };
    const int H = cache.nKvHeads();
    // c[i] = cos(K[i], K[i+1]), [S-1]: a kept prefill's when given and of this head's length.
    auto cosinesOf = [&](int h) {
      const size_t S = cache.cells(l, h).size();
      if (adjacentCos_ && S > 0 && (*adjacentCos_)[l][h].size() == S - 1) {
        return (*adjacentCos_)[l][h];
      }
      return adjacentCosine(headKeys(h));
    };
    if (params_.layout == MergeLayout::kSharedPerLayer) {
      // One layout for the layer: cosine and attention averaged over heads (equal lengths).
      const int S = static_cast<int>(cache.cells(l, 0).size());
      std::vector<float> cos(std::max(0, S - 1), 0.0f);
      std::vector<double> attention(S, 0.0);
      for (int h = 0; h < H; ++h) {
        require(static_cast<int>(cache.cells(l, h).size()) == S,
                "the shared merging layout needs all heads of a layer equally long");
        const auto c = cosinesOf(h);
        for (size_t i = 0; i < c.size(); ++i) cos[i] += c[i] / H;
        for (int i = 0; i < S; ++i) attention[i] += cache.cells(l, h)[i].attention / H;
      }
      const Layout layout = findSets(cos, attention, params_, params_.targetSlots(S));
      for (int h = 0; h < H; ++h) {
        heads.push_back(mergeHead(cache.cells(l, h), mergeKeys(h), layout, params_));
      }
      return heads;
    }
    for (int h = 0; h < H; ++h) {
      const auto& old = cache.cells(l, h);
      const Layout layout = findSets(cosinesOf(h), attentionOf(old), params_,
                                     params_.targetSlots(static_cast<int>(old.size())));
      heads.push_back(mergeHead(old, mergeKeys(h), layout, params_));
    }
  }
  return heads;
}

namespace {

// The paper's recent / protected fractions: 0.17 / 0.12 at a 50% budget, 0.08 / 0.02 at 35%
// (the latter for any budget below 42.5%).
bool smallBudget(double fraction) {
  return fraction < 0.425;
}

class KVMergerMethod : public MethodWithPolicy<KVMergerPolicy> {
 public:
  std::string name() const override { return "kvmerger"; }
  std::string title() const override { return "KVMerger"; }
  std::string summary() const override {
    return "Merges runs of adjacent tokens with similar keys into their pivot with "
           "Gaussian-kernel weights; keeps recent and top-attention tokens as they are.";
  }
  std::string reference() const override {
    return "Wang et al. 2024 (arXiv 2407.08454); kvmerger-spec.md";
  }
  std::vector<std::string> parameterKeys() const override {
    return {"budget",        "budget_tokens",      "exact_budget",
            "recent",        "protected",          "eps",
            "sigma",         "sigma_mode",         "layout",
            "skip_layers",   "scale_values",       "log_bias",
            "gqa_reduction", "decode_compression", "decode_chunk"};
  }
  std::vector<ParamSpec> ownParams() const override {
    return {
        switchParam("approximate-budget", "exact_budget", "exact budget (search eps per head)",
                    "KVMerger: use --eps as given (the paper) instead of fitting the budget "
                    "exactly",
                    &CompressionParams::exactBudget, /*switchValue=*/false),
        realParam("eps", "eps", "&eps",
                  "KVMerger with --approximate-budget: merge when adjacent key cosine > eps "
                  "(default 0.75; an exact budget searches eps)",
                  -1, 1.0001, &CompressionParams::eps),
        realParam("sigma", "sigma", "S&igma", "KVMerger: Gaussian kernel bandwidth (default 5)", 0,
                  std::numeric_limits<double>::max(), &CompressionParams::sigma, /*loOpen=*/true),
        choiceParam("sigma-mode", "sigma_mode", "Sigma mode", "fixed, mean-distance or literal",
                    choiceNames(SigmaMode{}), &CompressionParams::sigmaMode),
        choiceParam("layout", "layout", "&Layout",
                    "KVMerger merging sets: per-head or shared (per layer)",
                    choiceNames(MergeLayout{}), &CompressionParams::layout),
        wholeListParam("skip-layers", "skip_layers", "Skip layers",
                       "KVMerger: layers kept full, e.g. 0,1,31", 0, 4095,
                       &CompressionParams::skipLayers),
        switchParam("no-value-scaling", "scale_values", "scale merged values by n",
                    "KVMerger: merged value = weighted mean (paper: n times it)",
                    &CompressionParams::scaleValues, /*switchValue=*/false),
        switchParam("log-bias", "log_bias", "log(n) attention bias",
                    "Add log(n) to the attention logits of a slot merging n tokens (not in the "
                    "paper)",
                    &CompressionParams::logBias)};
  }
  std::optional<std::string> ignores(const std::string& key,
                                     const CompressionParams& p) const override {
    if (key == "eps" && p.exactBudget) {
      return "with an exact budget (the default), which searches eps per head to fit the budget; "
             "add --approximate-budget to merge at --eps as the paper does";
    }
    if (key == "sigma" && p.sigmaMode != SigmaMode::kFixed) {
      return "with --sigma-mode " + std::string(toString(p.sigmaMode)) +
             ", which derives sigma itself";
    }
    return CompressionMethod::ignores(key, p);
  }
  void validate(const CompressionParams& p) const override {
    // Decode compression returns each head to its size after the prompt: an exact size.
    require(!(p.decodeCompression && !p.exactBudget),
            "compression while decoding keeps each head at its size after the prompt, which "
            "needs KVMerger's exact budget; drop --approximate-budget (eps is then searched per "
            "head)");
    // Both make a merged slot of n tokens weigh like n tokens in attention: together, n^2.
    require(!(p.logBias && p.scaleValues),
            "log-bias and value scaling both count a merged slot as its n tokens (together n "
            "times over); turn value scaling off (--no-value-scaling) to use log-bias");
  }
  double defaultRecentRatio(double budget) const override {
    return smallBudget(budget) ? 0.08 : 0.17;
  }
  double defaultProtectedRatio(double budget) const override {
    return smallBudget(budget) ? 0.02 : 0.12;
  }
  int defaultRecent(int target, int S) const override {
    return static_cast<int>(std::lround(defaultRecentRatio(double(target) / S) * S));
  }
  int defaultProtected(int target, int S, int /*recent*/) const override {
    return static_cast<int>(std::lround(defaultProtectedRatio(double(target) / S) * S));
  }
  bool compressesLayer(const CompressionParams& p, int layer) const override {
    return std::find(p.skipLayers.begin(), p.skipLayers.end(), layer) == p.skipLayers.end();
  }
};

}  // namespace

const CompressionMethod& kvmergerMethod() {
  return theMethod<KVMergerMethod>();
}

}  // namespace kvs
