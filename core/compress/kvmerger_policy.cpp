// KVMerger (arXiv 2407.08454): merging sets of adjacent tokens with similar keys, each merged
// into its pivot with Gaussian-kernel weights (kvmerger-spec.md sections 2, 3 and 5).

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "cache/kv_cache.h"
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

HeadPlan mergeHead(const std::vector<Slot>& old, const at::Tensor& keys, const Layout& layout,
                   const CompressionParams& p) {
  HeadPlan plan;
  plan.decision = {layout.decision.eps, layout.decision.releasedProtected};
  const at::Tensor k = keys.to(at::kCPU, at::kFloat).contiguous();  // [S, D], once per head
  for (const MergingSet& set : layout.decision.sets) {
    if (set.size() == 1) {
      plan.addEntry(set.first, 1.0f, 1.0f);
      plan.closeSlot(old[set.first]);
      continue;
    }
    const GaussianMerge m =
        gaussianMerge(k.data_ptr<float>(), k.size(1), layout.attention, set, p.sigma, p.sigmaMode);
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

}  // namespace

std::vector<HeadPlan> KVMergerPolicy::planLayer(const KvCache& cache, const SlotMap& map,
                                                int l) const {
  std::vector<HeadPlan> heads;
  {
    params_.validateForModel(cache.nLayers());
    if (std::find(params_.skipLayers.begin(), params_.skipLayers.end(), l) !=
        params_.skipLayers.end()) {
      return heads;  // kept full
    }
    const at::Tensor keys = cache.keys(l).to(at::kCPU);  // [Hkv, Smax, D]
    const int H = cache.nKvHeads();
    auto headKeys = [&](int h) { return keys[h].narrow(0, 0, map.head(l, h).size()); };
    if (params_.layout == MergeLayout::kSharedPerLayer) {
      // One layout for the layer: cosine and attention averaged over heads (equal lengths).
      const int S = static_cast<int>(map.head(l, 0).size());
      std::vector<float> cos(std::max(0, S - 1), 0.0f);
      std::vector<double> attention(S, 0.0);
      for (int h = 0; h < H; ++h) {
        require(static_cast<int>(map.head(l, h).size()) == S,
                "the shared merging layout needs all heads of a layer equally long");
        const auto c = adjacentCosine(headKeys(h));
        for (size_t i = 0; i < c.size(); ++i) cos[i] += c[i] / H;
        for (int i = 0; i < S; ++i) attention[i] += map.head(l, h)[i].attention / H;
      }
      const Layout layout = findSets(cos, attention, params_, params_.targetSlots(S));
      for (int h = 0; h < H; ++h) {
        heads.push_back(mergeHead(map.head(l, h), headKeys(h), layout, params_));
      }
      return heads;
    }
    for (int h = 0; h < H; ++h) {
      const auto& old = map.head(l, h);
      const at::Tensor k = headKeys(h);
      const Layout layout = findSets(adjacentCosine(k), attentionOf(old), params_,
                                     params_.targetSlots(static_cast<int>(old.size())));
      heads.push_back(mergeHead(old, k, layout, params_));
    }
  }
  return heads;
}

}  // namespace kvs
