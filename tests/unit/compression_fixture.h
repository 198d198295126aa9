#pragma once
// Hand-made caches for compression tests: a KvCache filled from K, V [L, Hkv, T, D], its cells'
// accumulated attention from A [L, Hkv, T].

#include <ATen/ATen.h>

#include "cache/kv_cache.h"
#include "compress/compression_policy.h"

namespace kvs::test {

inline ModelConfig compressionConfig(int T, int kvHeads = 2, int headDim = 4) {
  ModelConfig c;
  c.nKvHeads = kvHeads, c.nHeads = kvHeads, c.dim = kvHeads * headDim;
  c.hiddenDim = 8, c.nLayers = 2, c.vocabSize = 10, c.seqLen = T + 16;
  return c;
}

// A cache of T tokens with keys/values K, V [L, Hkv, T, D] and accumulated attention A.
struct CompressionFixture {
  KvCache cache;
  CompressionFixture(const ModelConfig& c, const at::Tensor& K, const at::Tensor& V,
                     const at::Tensor& A)
      : cache(c) {
    const int T = static_cast<int>(K.size(2));
    cache.beginAppend(T);
    for (int l = 0; l < c.nLayers; ++l) cache.write(l, K[l].transpose(0, 1), V[l].transpose(0, 1));
    cache.commit();
    for (int l = 0; l < c.nLayers; ++l) cache.setAttention(l, A[l].to(at::kDouble));
  }
  void compress(const CompressionParams& p) { applyPlan(makePolicy(p)->plan(cache), cache); }
};

// CaM with 20 slots and a window of 4.
inline CompressionParams camParams(uint64_t seed) {
  CompressionParams p;
  p.method = "cam";
  p.budgetTokens = 20;
  p.camWindow = 4;
  p.seed = seed;
  return p;
}

// Keys drifting slowly along the token axis (neighbours similar, like real post-RoPE keys).
inline at::Tensor smoothKeys(int L, int H, int T, int D, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({L, H, 1, D}) + 0.15 * at::randn({L, H, T, D}).cumsum(2);
}

}  // namespace kvs::test
