#include "compress/window_trim.h"

#include <algorithm>
#include <numeric>

#include "cache/kv_cache.h"
#include "compress/compression_plan.h"
#include "model/sliding_window.h"
#include "util/error.h"

namespace kvs {

int hiddenPrefix(const std::vector<Slot>& cells, int length, int window) {
  const int limit = lastHiddenPosition(length, window);  // the next query is at `length`
  int n = 0;
  while (n < static_cast<int>(cells.size()) && cells[n].last <= limit) ++n;
  return n;
}

int64_t trimToWindow(KvCache& cache, const WindowTrimOptions& o) {
  if (!cache.trimsWindow() || lastHiddenPosition(cache.length(), cache.window()) < 0) return 0;
  const int length = cache.length(), W = cache.window(), L = cache.nLayers();
  const int Hkv = cache.nKvHeads();
  std::vector<std::vector<int>> hidden(L, std::vector<int>(Hkv));  // [L][Hkv] leading slots
  int most = 0;
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < Hkv; ++h) {
      hidden[l][h] = hiddenPrefix(cache.cells(l, h), length, W);
      most = std::max(most, hidden[l][h]);
    }
  }
  if (most < std::max(1, o.minDropped)) return 0;  // every layer at once, or none
  if (o.cachePositions) {
    // One RoPE shift for the whole cache: every head must lose the same number of slots.
    for (const auto& layer : hidden) {
      require(std::all_of(layer.begin(), layer.end(), [&](int k) { return k == most; }),
              "the window trim with positions inside the cache needs every head to drop the "
              "same number of slots");
    }
  }
  int64_t dropped = 0;
  for (int l = 0; l < L; ++l) {
    if (*std::max_element(hidden[l].begin(), hidden[l].end()) == 0) continue;
    // A plan that keeps slots hidden .. S_h - 1 of each head as they are: plain row moves, so
    // the kept keys and values are bit for bit the old ones.
    std::vector<HeadPlan> heads;
    for (int h = 0; h < Hkv; ++h) {
      const auto& cells = cache.cells(l, h);
      std::vector<int> kept(cells.size() - hidden[l][h]);
      std::iota(kept.begin(), kept.end(), hidden[l][h]);
      heads.push_back(HeadPlan::keep(cells, kept));
      heads.back().decision = cache.decision(l, h);  // the method's decision still describes it
      dropped += hidden[l][h];
    }
    applyLayerPlan(heads, l, cache, o.headroom, o.logBias);
    if (!o.cachePositions) continue;
    // Slot i held a key rotated at position i; it is now slot i - most, so it turns back.
    for (int h = 0; h < Hkv; ++h) cache.rotateKeys(l, h, 0, cache.slotCount(l, h), -most);
  }
  if (o.cachePositions) cache.setRopeShift(cache.ropeShift() + most);
  cache.countWindowDropped(dropped);
  return dropped;
}

}  // namespace kvs
