#pragma once
// Attention of several new float32 tokens over a layer's cache in one pass per row: scores over
// the columns a row may see, the additive mask, softmax and the weighted values, without score
// tensors. LibTorch's way (model/query_block_attention.cpp) is two bmm calls and a softmax over
// G*n x Tk scores per KV head: for stories260K's 512-token prompt (head dim 8) it computed the
// whole 512 x 512 square of which causality keeps half, through OpenBLAS's small-matrix threads,
// and was 30 of a prefill's 37 ms. Rows are split over kernels/worker_pool.h. AVX-512 only; other
// CPUs keep the LibTorch path.

#include <cstdint>

namespace kvs::kernels {

// One layer's attention, all float32, row-major:
//   q       [n, Hq, D]      the pending tokens' queries (after RoPE)
//   keysT   [Hkv, D, ld]    keys transposed, ld >= Tk a multiple of 16, columns past Tk zero
//   valuesT [Hkv, D, ld]    values transposed, the same way
//   mask    [Hm, G*n, Tk]   additive (KvCache::attentionMask's layout, row g*n + i), Hm 1 or Hkv;
//                           null: none
//   out     [n, Hq*D]       softmax(scale q k^T + mask) v
//   probs   [Hq, n, Tk]     the probabilities, 0 past a row's visible columns; null: not kept
// Query head h uses KV head h / G (G = Hq / Hkv). Row i sees columns [0, Tk - n + i + 1), the
// pending tokens being the last n; the mask hides more of them (padding, compression, a window)
// and must leave each row at least one finite score.
struct CausalAttentionArgs {
  const float* q = nullptr;
  const float* keysT = nullptr;
  const float* valuesT = nullptr;
  const float* mask = nullptr;
  float* out = nullptr;
  float* probs = nullptr;
  int64_t n = 0, Hq = 0, Hkv = 0, D = 0, Tk = 0, ld = 0, maskHeads = 1;
  float scale = 1;
};

// Rows a tile holds: up to four query rows of one KV head, which share every load of its keys.
constexpr int64_t kCausalAttentionTileRows = 4;

// True when causalAttention runs on this CPU (AVX-512, kernels enabled: see kernels/gemv.h).
bool causalAttentionAvailable();

// Runs the rows over the worker pool. Requires causalAttentionAvailable().
void causalAttention(const CausalAttentionArgs& args);

// The tiles of the work, and tiles [first, last) of them on the calling thread in AVX-512 (for
// tests, and causalAttention's workers).
int64_t causalAttentionTiles(const CausalAttentionArgs& args);
void causalAttentionTilesAvx512(const CausalAttentionArgs& args, int64_t first, int64_t last);

}  // namespace kvs::kernels
