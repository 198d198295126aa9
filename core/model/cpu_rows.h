#pragma once
// The float32 row operations of a Llama layer in plain loops: RMSNorm, RoPE and the SwiGLU gate,
// one row at a time (the one-token decode step, model/cpu_decode_step.h) or over the rows of a
// prompt split across kernels/worker_pool.h (LlamaModel's batched pass on the CPU). LibTorch runs
// each as several ops on one thread (its OpenMP pool has one, util/runtime.h): for stories260K's
// 512-token prompt the norms, RoPE and gates were 1.9 of 7.4 ms.

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "model/model_config.h"

namespace kvs {

class RotaryEmbedding;

// out[n] = x / sqrt(mean(x^2) + eps) * weight, the sum of squares in double. out may be x.
void rmsNormRow(const float* x, const float* weight, int64_t n, float eps, float* out);

// Rotates each of `heads` rows of D in x by the angles cosSin [D/2][cos, sin] of one position,
// pairing (2i, 2i+1) or (i, i + D/2) as the style says.
void ropeRow(float* x, int64_t heads, int64_t D, const float* cosSin, RopeStyle style);

// out[i] = silu(gateUp[i]) * gateUp[F + i] for i < F. out may be gateUp (the gate half is
// overwritten, the up half only read).
void siluGateRow(const float* gateUp, int64_t F, float* out);

// Whether the batched functions below take x: a float32 CPU tensor whose last axis is
// contiguous, with the kernels enabled (KVS_KERNELS=libtorch leaves LibTorch's ops).
bool cpuRowsHandle(const at::Tensor& x);

// x [..., C] (rows of C, any row stride), weight [C] in any float dtype -> rmsNormRow of every
// row, [..., C] contiguous float32.
at::Tensor rmsNormRows(const at::Tensor& x, const at::Tensor& weight, float eps);

// x [T, H, D] (rows of D contiguous; a narrow view of q/k/v is fine), token t at position
// start + t -> ropeRow of each token's heads in rope's pairing, [T, H, D] contiguous float32.
at::Tensor ropeRows(const at::Tensor& x, const RotaryEmbedding& rope, int64_t start);

// gateUp [n, 2F] contiguous float32 -> siluGateRow of each row, [n, F].
at::Tensor siluGateRows(const at::Tensor& gateUp);

}  // namespace kvs
