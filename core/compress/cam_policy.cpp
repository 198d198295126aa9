#include "compress/cam_policy.h"

#include <algorithm>

#include "cache/kv_cache.h"
#include "compress/token_selection.h"

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

std::vector<HeadPlan> CaMPolicy::planLayer(const KvCache& cache, const SlotMap& map, int l) const {
  const bool streamingBase = params_.camBase == CamBase::kStreaming;
  std::vector<HeadPlan> heads;
  for (int h = 0; h < cache.nKvHeads(); ++h) {
    const auto& old = map.head(l, h);
    const int S = static_cast<int>(old.size());
    const std::vector<char> keep =
        streamingBase ? sinksAndRecent(S, params_.targetSlots(S), params_.sinkTokens)
                      : recentAndHeavy(old, params_);
    const std::vector<int> kept = keptIndices(keep);
    // Each evicted slot e, with probability clamp(A[e] / mean A of the m kept slots after it,
    // 0, 1), adds V[e] / m to those m values; its key is dropped. On the streaming base, as in
    // the authors' kv_cache_cam.py, only the token just before the recent window (the one a
    // decode step evicts) may merge; older ones evicted with it are dropped.
    std::vector<std::vector<std::pair<int, float>>> extra(kept.size());  // per kept slot
    int lastEvicted = -1;
    for (int e = 0; e < S; ++e) lastEvicted = keep[e] ? lastEvicted : e;
    for (int e = 0; e < S; ++e) {
      if (keep[e] || (streamingBase && e != lastEvicted)) continue;
      const auto next = std::upper_bound(kept.begin(), kept.end(), e);
      const int m = std::min<int>(params_.camWindow, kept.end() - next);
      if (m == 0) continue;
      double mean = 0;
      for (int k = 0; k < m; ++k) mean += old[next[k]].attention / m;
      const double p = mean > 0 ? std::clamp(old[e].attention / mean, 0.0, 1.0) : 0.0;
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
  return heads;
}

}  // namespace kvs
