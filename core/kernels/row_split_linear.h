#pragma once
// Several tokens' float32 projections with their rows split over kernels/worker_pool.h, each part
// one single-threaded sgemm. With OpenBLAS's own pool on the same two cores, its idle workers
// spun in sched_yield beside the kernels' pool through every attention of a prefill (a quarter
// of stories260K's prefill time). So a float32 prefill keeps OpenBLAS on the calling thread
// (util/runtime.h, BlasOnCallerThread) and gives the threads to this split instead.

#include <ATen/core/Tensor.h>

namespace kvs::kernels {

// x [n, C] float32 times w^T, w [out, C] float32, both on the CPU: at::linear(x, w), its rows
// in contiguous parts over the pool, at least 16 rows each (fewer rows stay on the caller).
at::Tensor rowSplitLinear(const at::Tensor& x, const at::Tensor& w);

}  // namespace kvs::kernels
