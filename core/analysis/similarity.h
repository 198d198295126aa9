#pragma once
// Token-by-token similarity of key (or value) states, the first observation of the KVMerger paper.

#include <ATen/core/Tensor.h>

namespace kvs {

// x: [T, D] -> [T, T] cosine similarities, norms clamped at 1e-6 (float32, one matmul).
at::Tensor cosineSimilarityMatrix(const at::Tensor& x);

}  // namespace kvs
