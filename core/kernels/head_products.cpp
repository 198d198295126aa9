#include "kernels/head_products.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "kernels/gemv.h"
#include "kernels/worker_pool.h"

namespace kvs::kernels {
namespace {

// LibTorch's mv on each (head, row): the path under KVS_KERNELS=libtorch and for other layouts.
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

// The matvec loops on the cache as stored (float32, bfloat16 or float16), accumulated in
// float32: LibTorch 1.13's mv on a bfloat16 cache was the slowest part of a bfloat16 decode step.
struct RawProducts {
  const float* rows;  // [pairs, inCols] float32
  const char* cache;  // head h at cache + h * headBytes, its Tk rows ld elements apart
  WeightType type;
  int64_t G, pairs, Tk, D, ld, headBytes, inCols, outCols;
  float* out;  // [pairs, outCols] float32
  bool transposed;
  int tasks;
};

void rawTask(int index, void* context) {
  const RawProducts& p = *static_cast<const RawProducts*>(context);
  for (int64_t pair = index; pair < p.pairs; pair += p.tasks) {
    const char* head = p.cache + (pair / p.G) * p.headBytes;
    const float* row = p.rows + pair * p.inCols;
    float* target = p.out + pair * p.outCols;
    if (p.transposed) {
      weightedRowsSerial(head, p.type, p.Tk, p.D, p.ld, row, target);  // [D]
    } else {
      matvecSerial(head, p.type, p.Tk, p.D, p.ld, row, target);  // [Tk]
    }
  }
}

bool rawLayout(const at::Tensor& cache) {
  const at::ScalarType t = cache.scalar_type();
  return cache.device().is_cpu() && cache.dim() == 3 && cache.stride(2) == 1 &&
         (t == at::kFloat || t == at::kBFloat16 || t == at::kHalf);
}

}  // namespace

at::Tensor perHeadProducts(const at::Tensor& rows, const at::Tensor& cache, bool transposed) {
  const int64_t Hkv = rows.size(0), G = rows.size(1);
  const int64_t Tk = cache.size(1), D = cache.size(2), outCols = transposed ? D : Tk;
  if (matvecEnabled() && rawLayout(cache) && rows.device().is_cpu()) {
    const at::Tensor rowsF = rows.to(at::kFloat).contiguous();  // [Hkv, G, Tk or D]
    at::Tensor out = at::empty({Hkv, G, outCols}, rowsF.options());
    const int tasks = static_cast<int>(std::min<int64_t>(poolThreads(), Hkv * G));
    RawProducts p{rowsF.data_ptr<float>(),
                  static_cast<const char*>(cache.data_ptr()),
                  weightTypeOf(cache.scalar_type()),
                  G,
                  Hkv * G,
                  Tk,
                  D,
                  cache.stride(1),
                  cache.stride(0) * static_cast<int64_t>(cache.element_size()),
                  rowsF.size(2),
                  outCols,
                  out.data_ptr<float>(),
                  transposed,
                  tasks};
    runOnPool(tasks, rawTask, &p);
    return rows.scalar_type() == at::kFloat ? out : out.to(rows.scalar_type());
  }
  at::Tensor out = at::empty({Hkv, G, outCols}, rows.options());
  // Under KVS_KERNELS=libtorch OpenBLAS keeps its pool during decode: one task, as before.
  const int threads = matvecEnabled() ? poolThreads() : 1;
  const int tasks = static_cast<int>(std::min<int64_t>(threads, Hkv * G));
  Products p{&rows, &cache, &out, transposed, tasks, c10::InferenceMode::is_enabled()};
  runOnPool(tasks, productsTask, &p);
  return out;
}

}  // namespace kvs::kernels
