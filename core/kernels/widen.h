#pragma once
// float16 weights under float32 compute on the CPU (LibTorch 1.13 has no float16 matmul there):
// a batched pass widens each matrix for its call. LibTorch's own conversion ran at 0.8 GB/s on
// one thread, a 1.1B model's weights took 2.8 s per forward; this one converts with F16C
// (vcvtph2ps) over kernels/worker_pool.h.

#include <ATen/core/Tensor.h>

namespace kvs::kernels {

// A contiguous CPU float16 tensor as float32 (exact: every float16 is a float32), same shape.
// Other tensors: t.to(at::kFloat).
at::Tensor widenToFloat(const at::Tensor& t);

}  // namespace kvs::kernels
