#pragma once
// Mistral's sliding window: a query at position p attends only to keys of positions
// p - W + 1 .. p (transformers masks kv_idx <= q_idx - W). The cache keeps every key; the window
// is an additive mask next to the cache's own (causal, padding, slot bias).

#include <ATen/core/Tensor.h>

namespace kvs {

class KvCache;

// Additive mask for the pending tokens' queries of one layer over keys(layer), in the layout of
// KvCache::attentionMask: [1 or Hkv, G*n, Smax+n], 0 where the window lets query i see slot j,
// -inf where it hides it. A slot is visible while the newest token it stands for (its cell's
// `last`: after compression a merged slot lives as long as its newest member) is inside the
// window; slots past a head's cells (padding) are left to the cache's mask. Undefined when the
// window hides nothing (every query sees every slot). window 0: none.
at::Tensor slidingWindowMask(const KvCache& cache, int layer, int window, int groupSize,
                             at::ScalarType dtype);

}  // namespace kvs
