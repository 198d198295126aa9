#pragma once
// CaM (Zhang et al., ICML 2024): keeps what H2O keeps (or, on the streaming base, what
// StreamingLLM keeps, as the authors' streaming code does) and merges each evicted value into the
// kept values that follow it, with a probability from its accumulated attention.

#include <cstdint>

namespace kvs {

// CaM's uniform draw in [0, 1) for evicting the token at `position` of (layer, KV head): a pure
// function of its arguments, so runs are reproducible for a seed and each evicted token gets an
// independent draw however often the cache is compressed.
double camDraw(uint64_t seed, int layer, int head, int position);

}  // namespace kvs
