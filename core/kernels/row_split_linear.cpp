#include "kernels/row_split_linear.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "kernels/worker_pool.h"

namespace kvs::kernels {
namespace {

// Fewer rows per thread than this are not worth waking a worker.
constexpr int64_t kMinRowsPerPart = 16;

struct Parts {
  const at::Tensor* x;  // [n, C]
  const at::Tensor* w;  // [out, C]
  at::Tensor* y;        // [n, out]
  int64_t rowsPerPart;
  bool inferenceMode;
};

void partTask(int index, void* context) {
  const Parts& p = *static_cast<const Parts*>(context);
  // InferenceMode is per thread: a worker writing into the caller's inference tensors needs it.
  const c10::InferenceMode guard(p.inferenceMode);
  const int64_t begin = index * p.rowsPerPart;
  const int64_t count = std::min(p.x->size(0), begin + p.rowsPerPart) - begin;
  at::Tensor part = p.y->narrow(0, begin, count);
  at::mm_out(part, p.x->narrow(0, begin, count), p.w->t());
}

}  // namespace

at::Tensor rowSplitLinear(const at::Tensor& x, const at::Tensor& w) {
  const int64_t n = x.size(0);
  const int64_t parts = std::min<int64_t>(poolThreads(), n / kMinRowsPerPart);
  if (parts <= 1) return at::linear(x, w);
  at::Tensor y = at::empty({n, w.size(0)}, x.options());
  Parts job{&x, &w, &y, (n + parts - 1) / parts, c10::InferenceMode::is_enabled()};
  runOnPool(static_cast<int>((n + job.rowsPerPart - 1) / job.rowsPerPart), partTask, &job);
  return y;
}

}  // namespace kvs::kernels
