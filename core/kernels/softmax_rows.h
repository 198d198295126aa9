#pragma once
// Softmax over the last axis with its rows split over kernels/worker_pool.h. LibTorch's own
// softmax runs on its OpenMP pool, which is one thread next to OpenBLAS's (util/runtime.h), and
// prefill's softmax over n x n scores was most of stories260K's prefill.

#include <ATen/core/Tensor.h>

namespace kvs::kernels {

// at::softmax(scores, -1, at::kFloat) for a contiguous CPU tensor [..., T]: float32, same shape.
// Small inputs (and other devices) go straight to at::softmax.
at::Tensor softmaxRows(const at::Tensor& scores);

}  // namespace kvs::kernels
