#pragma once
// The window trim: a model with a sliding window (Mistral) never attends to a slot whose newest
// token has left the window of the next query, and queries only move forward, so such a slot
// can be dropped without changing any logit. The cache decides nothing (kv_cache.h): this is
// the one place that drops slots for the window, with the same rule as the mask
// (model/sliding_window.h lastHiddenPosition). The decode path trims after the prompt's
// compression and after each decode step (session/decode.h).

#include <cstdint>
#include <vector>

#include "cache/slot_map.h"

namespace kvs {

class KvCache;

struct WindowTrimOptions {
  // Trims a layer only when one of its heads drops at least this many slots (windowTrimChunk
  // while decoding, so that rows move once per chunk rather than at every step).
  int minDropped = 1;
  int headroom = 0;      // slots allocated per head past the kept ones, for the next tokens
  bool logBias = false;  // the variant's +log(n) bias for merged slots, set again after the trim
  // The keys sit at their slots' positions (StreamingLLM with positions inside the cache): the
  // kept keys are turned back by the number dropped, as the method's own evictions are.
  bool cachePositions = false;
};

// How many leading cells of a head the window hides from every query at position >= length:
// cells are in token order and their `last` increases, so the hidden ones are a prefix.
int hiddenPrefix(const std::vector<Slot>& cells, int length, int window);

// Drops from every (layer, KV head) the slots no query at position cache.length() or later can
// see, keeping the others' keys, values, cells and decisions as they are; counts them in the
// cache's memory().window. Does nothing when the cache keeps its window (WindowCache::kKeep) or
// the model has none. Returns the slots dropped.
int64_t trimToWindow(KvCache& cache, const WindowTrimOptions& options = {});

}  // namespace kvs
