#pragma once
// Attention of several new tokens (a prompt, or a chunk of one) over a layer's cache, in blocks of
// query rows. One pass over all of them builds score and probability tensors of G*n x Tk per KV
// head: for 512 tokens of a 1.1B model 33 MB each, above glibc's largest mmap threshold (32 MiB),
// so every layer page-faulted them in anew, and for a 3,500-token prompt of a 7B model 1.6 GB.
// Blocks keep each under kScoreBlockBytes, and a block's queries see keys only up to their own
// position, so the columns past it are left out of its matmuls and softmax.

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace kvs {

class LayerObserver;

// The most bytes of float32 probabilities one block of query rows builds.
constexpr int64_t kScoreBlockBytes = int64_t{24} << 20;

// Query rows per block for Hq query heads over Tk slots (at least 1).
int64_t queryBlockRows(int64_t Hq, int64_t Tk);

// q [n, Hq, D] (the pending tokens' queries after RoPE), keys and values [Hkv, Tk, D] (the
// pending tokens last: query i sees columns up to Tk - n + i, whatever the mask), mask [1 or Hkv,
// G*n, Tk] additive (KvCache::attentionMask's layout, row g*n + i) or undefined (causality
// alone): softmax(scale q k^T + mask) v, returned as [n, Hq*D] in q's dtype. Shows "attn"
// [Hq, n, Tk] (when it wants attention) and "attn_out" [Hq, n, D] of the layer to observer.
// Float32 and bfloat16 on an AVX-512 CPU take kernels/causal_attention.h's fused rows (bfloat16
// widened, attended in float32, rounded once); the rest LibTorch's matmuls, block by block.
at::Tensor queryBlockAttention(const at::Tensor& q, const at::Tensor& keys,
                               const at::Tensor& values, const at::Tensor& mask, double scale,
                               int layer, LayerObserver* observer);

}  // namespace kvs
