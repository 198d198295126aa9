#include "analysis/merging_layout.h"

#include <exception>

#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "session/prefill_state.h"

namespace kvs {

int MergingLayout::mergedSlots(int layer, int head) const {
  int n = 0;
  for (const Slot& s : heads.at(layer).at(head).slots) n += s.count > 1;
  return n;
}

MergingLayout computeMergingLayout(const PrefillState& state, const CompressionParams& params) {
  MergingLayout layout;
  layout.tokens = state.tokens();
  const KvCache& cache = state.cache(params.gqaReduction);
  try {
    // The policy's own plan, the one a run would apply: one implementation of every method.
    const auto policy = makePolicy(params);  // validates
    if (policy) {
      policy->reuseAdjacentCosines(&state.adjacentCos);
      policy->planSlotsOnly(true);  // drawn, never applied
    }
    for (int l = 0; l < cache.nLayers(); ++l) {
      const auto plans = policy ? policy->planLayer(cache, l) : std::vector<HeadPlan>{};
      std::vector<HeadLayout> heads;
      for (int h = 0; h < cache.nKvHeads(); ++h) {
        if (plans.empty()) {  // the layer stays as it is (the full cache, skipped layers)
          heads.push_back({cache.cells(l, h), {}});
          continue;
        }
        const HeadPlan& p = plans[h];
        heads.push_back({p.slots, p.isProtected, p.decision.eps, p.decision.releasedProtected});
      }
      layout.heads.push_back(std::move(heads));
    }
  } catch (const std::exception& e) {
    layout.heads.clear();
    layout.error = e.what();
  }
  return layout;
}

}  // namespace kvs
