#pragma once
// Mistral's sliding window: a query at position p attends only to keys of positions
// p - W + 1 .. p (transformers masks kv_idx <= q_idx - W). The window is an additive mask next
// to the cache's own (causal, padding, slot bias); slots it hides from every later query too
// are dropped by compress/window_trim.h unless the cache keeps them (WindowCache::kKeep).

#include <ATen/core/Tensor.h>

namespace kvs {

class KvCache;

// The newest position a slot may stand for and still be hidden from a query at queryPosition:
// a slot whose `last` is at or below it is outside that query's window. Queries only move
// forward, so such a slot stays hidden from every later query as well.
inline int lastHiddenPosition(int queryPosition, int window) {
  return queryPosition - window;
}

// While decoding, the trim runs once this many slots of some head have left the window, so rows
// move once per chunk rather than at every step (a 4096 window moves 64 rows per head every 64
// tokens); 1 for windows up to 31.
inline int windowTrimChunk(int window) {
  return window / 16 < 1 ? 1 : (window / 16 > 64 ? 64 : window / 16);
}

// The most slots one (layer, KV head) holds while trimming, the token of a forward pass
// included: the W - 1 previous positions a next query can see, plus up to chunk - 1 waiting for
// the next trim, plus the token itself. W for windows up to 31.
inline int windowSlotBound(int window) {
  return window - 1 + windowTrimChunk(window);
}

// Additive mask for the pending tokens' queries of one layer over keys(layer), in the layout of
// KvCache::attentionMask: [1 or Hkv, G*n, Smax+n], 0 where the window lets query i see slot j,
// -inf where it hides it. A slot is visible while the newest token it stands for (its cell's
// `last`: after compression a merged slot lives as long as its newest member) is inside the
// window; slots past a head's cells (padding) are left to the cache's mask. Undefined when the
// window hides nothing (every query sees every slot). window 0: none.
at::Tensor slidingWindowMask(const KvCache& cache, int layer, int window, int groupSize,
                             at::ScalarType dtype);

}  // namespace kvs
