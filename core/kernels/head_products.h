#pragma once
// Decode attention over a long cache, one query token: per KV head, the G query rows of its group
// against that head's keys (scores) or the G probability rows against its values (outputs). Each
// (head, row) product is one gemv on the cache as stored; the products are spread over
// kernels/worker_pool.h (on the caller alone under KVS_KERNELS=libtorch), so attention reads the
// cache on every core while OpenBLAS's own pool stays asleep during decode (two pools spinning on
// two cores made decode 3x slower before).

#include <ATen/core/Tensor.h>

namespace kvs::kernels {

// rows [Hkv, G, Tk or D], cache [Hkv, Tk, D], both on the CPU in one dtype. Not transposed:
// out[h][g] = cache[h] rows[h][g] (scores, [Hkv, G, Tk]); transposed: out[h][g] =
// cache[h]^T rows[h][g] (weighted values, [Hkv, G, D]).
at::Tensor perHeadProducts(const at::Tensor& rows, const at::Tensor& cache, bool transposed);

}  // namespace kvs::kernels
