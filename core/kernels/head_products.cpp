#include "kernels/head_products.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "kernels/gemv.h"
#include "kernels/worker_pool.h"

namespace kvs::kernels {
namespace {

struct Products {
  const at::Tensor* rows;   // [Hkv, G, Tk or D]
  const at::Tensor* cache;  // [Hkv, Tk, D]
  at::Tensor* out;          // [Hkv, G, Tk or D]
  bool transposed;
  int tasks;
  bool inferenceMode;
};

void productsTask(int index, void* context) {
  const Products& p = *static_cast<const Products*>(context);
  // InferenceMode is per thread: a worker writing into the caller's inference tensors needs it.
  const c10::InferenceMode guard(p.inferenceMode);
  const int64_t G = p.rows->size(1), pairs = p.rows->size(0) * G;
  for (int64_t pair = index; pair < pairs; pair += p.tasks) {
    const int64_t h = pair / G, g = pair % G;
    const at::Tensor head = (*p.cache)[h];  // [Tk, D]
    at::Tensor target = (*p.out)[h][g];
    at::mv_out(target, p.transposed ? head.t() : head, (*p.rows)[h][g]);
  }
}

}  // namespace

at::Tensor perHeadProducts(const at::Tensor& rows, const at::Tensor& cache, bool transposed) {
  const int64_t Hkv = rows.size(0), G = rows.size(1);
  at::Tensor out = at::empty({Hkv, G, transposed ? cache.size(2) : cache.size(1)}, rows.options());
  // Under KVS_KERNELS=libtorch OpenBLAS keeps its pool during decode: one task, as before.
  const int threads = matvecEnabled() ? poolThreads() : 1;
  const int tasks = static_cast<int>(std::min<int64_t>(threads, Hkv * G));
  Products p{&rows, &cache, &out, transposed, tasks, c10::InferenceMode::is_enabled()};
  runOnPool(tasks, productsTask, &p);
  return out;
}

}  // namespace kvs::kernels
