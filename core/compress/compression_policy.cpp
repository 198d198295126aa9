// What every policy shares: planning all layers, compressing layer by layer (with positions
// inside the cache where the method asks for them), and choosing the policy of a method.

#include <algorithm>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "util/error.h"

namespace kvs {

CompressionPlan CompressionPolicy::plan(const KvCache& cache) const {
  CompressionPlan plan;
  for (int l = 0; l < cache.nLayers(); ++l) plan.layers.push_back(planLayer(cache, l));
  return plan;
}

void CompressionPolicy::compress(KvCache& cache, int headroom) const {
  for (int l = 0; l < cache.nLayers(); ++l) compressLayer(cache, l, headroom);
}

void CompressionPolicy::compressLayer(KvCache& cache, int layer, int headroom) const {
  const std::vector<HeadPlan> heads = planLayer(cache, layer);
  applyLayerPlan(heads, layer, cache, headroom, params_.logBias);
  if (heads.empty() || !usesCachePositions(params_)) return;
  // Positions inside the cache: slot i held a key rotated at position i (every earlier
  // compression kept that true, and new tokens are rotated at the slot they take); the key of
  // new slot s comes from old slot src, so it turns by s - src. Evicted tokens' positions are
  // given up: the next token is rotated right after the last slot.
  // Runs of slots with the same turn are rotated together (StreamingLLM: the sinks, unturned, and
  // the recent tokens, all turned back by the number evicted).
  for (size_t h = 0; h < heads.size(); ++h) {
    const HeadPlan& p = heads[h];
    std::vector<int> turn(p.size(), 0);
    for (int s = 0; s < p.size(); ++s) {
      for (int e = p.entryStart[s]; e < p.entryStart[s + 1]; ++e) {
        if (p.keyWeight[e] != 0.0f) turn[s] = s - p.source[e];  // the slot's one key entry
      }
    }
    for (int first = 0, s = 1; s <= p.size(); ++s) {
      if (s < p.size() && turn[s] == turn[first]) continue;
      cache.rotateKeys(layer, static_cast<int>(h), first, s - first, turn[first]);
      first = s;
    }
  }
  const std::vector<int> counts = cache.slotCounts(layer);
  require(std::equal(counts.begin() + 1, counts.end(), counts.begin()),
          "positions inside the cache need every head of a layer equally long");
  cache.setRopeShift(cache.length() - counts[0]);
}

std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& params) {
  params.validate();
  return methodNamed(params.method).makePolicy(params);
}

}  // namespace kvs
