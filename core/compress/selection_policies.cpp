// Policies that choose slots to keep: StreamingLLM (sinks + recent), H2O (recent + heavy
// hitters by accumulated attention, per KV head) and CaM (H2O's choice, with evicted values
// merged into the kept slots that follow them).

#include <algorithm>
#include <numeric>

#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "compress/merging_sets.h"
#include "util/error.h"

namespace kvs {

namespace {

// SplitMix64's finaliser: a well-mixed 64-bit value from any input.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

double camDraw(uint64_t seed, int layer, int head, int position) {
  // Keyed by the evicted token itself, not by the call: with compression at every decode step a
  // generator seeded per (layer, head) and call would hand every step the same first draw.
  uint64_t x = mix(seed);
  x = mix(x ^ static_cast<uint32_t>(layer));
  x = mix(x ^ static_cast<uint32_t>(head));
  x = mix(x ^ static_cast<uint32_t>(position));
  return static_cast<double>(x >> 11) * 0x1.0p-53;  // 53 random bits in [0, 1)
}

CompressionPlan CompressionPolicy::plan(const KvCache& cache, const SlotMap& map) const {
  CompressionPlan plan;
  for (int l = 0; l < cache.nLayers(); ++l) plan.layers.push_back(planLayer(cache, map, l));
  return plan;
}

void CompressionPolicy::compress(KvCache& cache, SlotMap& map, int headroom) const {
  for (int l = 0; l < cache.nLayers(); ++l) compressLayer(cache, map, l, headroom);
}

void CompressionPolicy::compressLayer(KvCache& cache, SlotMap& map, int layer, int headroom) const {
  const std::vector<HeadPlan> heads = planLayer(cache, map, layer);
  applyLayerPlan(heads, layer, cache, map, headroom, params_.logBias);
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
  const std::vector<int>& counts = cache.slotCounts(layer);
  require(std::equal(counts.begin() + 1, counts.end(), counts.begin()),
          "positions inside the cache need every head of a layer equally long");
  cache.setRopeShift(cache.length() - counts[0]);
}

std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& params) {
  params.validate();
  switch (params.method) {
    case Method::kFull:
      return nullptr;
    case Method::kStreaming:
      return std::make_unique<StreamingPolicy>(params);
    case Method::kH2O:
    case Method::kCaM:
      return std::make_unique<H2OPolicy>(params);
    case Method::kKVMerger:
      return std::make_unique<KVMergerPolicy>(params);
  }
  return nullptr;
}

namespace {

// StreamingLLM's choice among S slots: the first `sinks` and the most recent up to the target.
// At least one recent slot is kept (a budget of 4 slots with 4 sinks would otherwise evict each
// new token at once and freeze the cache on the first ones).
std::vector<char> sinksAndRecent(int S, int target, int sinkTokens) {
  const int sinks = std::min(sinkTokens, std::max(0, target - 1));
  std::vector<char> keep(S, 0);
  for (int i = 0; i < S; ++i) keep[i] = i < sinks || i >= S - (target - sinks);
  return keep;
}

}  // namespace

std::vector<HeadPlan> StreamingPolicy::planLayer(const KvCache& cache, const SlotMap& map,
                                                 int l) const {
  std::vector<HeadPlan> heads;
  for (int h = 0; h < cache.nKvHeads(); ++h) {
    const auto& old = map.head(l, h);
    const int S = static_cast<int>(old.size());
    const std::vector<char> keep = sinksAndRecent(S, params_.targetSlots(S), params_.sinkTokens);
    std::vector<int> kept;
    for (int i = 0; i < S; ++i) {
      if (keep[i]) kept.push_back(i);
    }
    heads.push_back(HeadPlan::keep(old, kept));
  }
  return heads;
}

std::vector<HeadPlan> H2OPolicy::planLayer(const KvCache& cache, const SlotMap& map, int l) const {
  const bool cam = params_.method == Method::kCaM;
  std::vector<HeadPlan> heads;
  {
    for (int h = 0; h < cache.nKvHeads(); ++h) {
      const auto& old = map.head(l, h);
      const int S = static_cast<int>(old.size()), target = params_.targetSlots(S);
      std::vector<double> attention(S);
      for (int i = 0; i < S; ++i) attention[i] = old[i].attention;
      std::vector<char> keep;
      if (cam && params_.camBase == CamBase::kStreaming) {
        keep = sinksAndRecent(S, target, params_.sinkTokens);
      } else {
        const int recent = params_.recentCount(S);
        const int heavy = std::min(params_.protectedCount(S), target - recent);
        require(recent <= target, "recent tokens (" + std::to_string(recent) +
                                      ") exceed the budget of " + std::to_string(target) +
                                      " slots; lower --recent");
        keep = protectedSlots(attention, recent, heavy);
      }
      std::vector<int> kept;
      for (int i = 0; i < S; ++i) {
        if (keep[i]) kept.push_back(i);
      }
      if (!cam) {
        heads.push_back(HeadPlan::keep(old, kept));
        continue;
      }
      // CaM: each evicted slot e, with probability clamp(A[e] / mean A of the m kept slots after
      // it, 0, 1), adds V[e] / m to those m values; its key is dropped. On the streaming base,
      // as in the authors' kv_cache_cam.py, only the token just before the recent window (the
      // one a decode step evicts) may merge; older ones evicted with it are dropped.
      std::vector<std::vector<std::pair<int, float>>> extra(kept.size());  // per kept slot
      int lastEvicted = -1;
      for (int e = 0; e < S; ++e) lastEvicted = keep[e] ? lastEvicted : e;
      const bool onlyLast = params_.camBase == CamBase::kStreaming;
      for (int e = 0; e < S; ++e) {
        if (keep[e] || (onlyLast && e != lastEvicted)) continue;
        const auto next = std::upper_bound(kept.begin(), kept.end(), e);
        const int m = std::min<int>(params_.camWindow, kept.end() - next);
        if (m == 0) continue;
        double mean = 0;
        for (int k = 0; k < m; ++k) mean += attention[next[k]] / m;
        const double p = mean > 0 ? std::clamp(attention[e] / mean, 0.0, 1.0) : 0.0;
        if (camDraw(params_.seed, l, h, old[e].first) >= p) continue;
        const size_t first = next - kept.begin();
        for (int k = 0; k < m; ++k) extra[first + k].push_back({e, 1.0f / m});
      }
      HeadPlan head;
      for (size_t k = 0; k < kept.size(); ++k) {
        head.addEntry(kept[k], 1.0f, 1.0f);
        for (const auto& [e, w] : extra[k]) head.addEntry(e, 0.0f, w);
        head.closeSlot(old[kept[k]]);
      }
      heads.push_back(std::move(head));
    }
  }
  return heads;
}

}  // namespace kvs
