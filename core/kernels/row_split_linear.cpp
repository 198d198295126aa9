#include "kernels/row_split_linear.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <exception>
#include <vector>

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
  std::vector<std::exception_ptr> errors;  // per part: the pool's tasks must not throw
};

void partTask(int index, void* context) {
  Parts& p = *static_cast<Parts*>(context);
  try {
    // InferenceMode is per thread: a worker writing into the caller's inference tensors needs it.
    const c10::InferenceMode guard(p.inferenceMode);
    const int64_t begin = index * p.rowsPerPart;
    const int64_t count = std::min(p.x->size(0), begin + p.rowsPerPart) - begin;
    at::Tensor part = p.y->narrow(0, begin, count);
    at::mm_out(part, p.x->narrow(0, begin, count), p.w->t());
  } catch (...) {
    p.errors[static_cast<size_t>(index)] = std::current_exception();
  }
}

}  // namespace

at::Tensor rowSplitLinear(const at::Tensor& x, const at::Tensor& w) {
  // Checked here, where LibTorch's own error can still reach the caller (forward rolls back).
  TORCH_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(1),
              "rowSplitLinear: x [n, C] and w [out, C] expected, got x ", x.sizes(), " and w ",
              w.sizes());
  TORCH_CHECK(x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
                  x.device().is_cpu() && w.device().is_cpu(),
              "rowSplitLinear: float32 CPU tensors expected");
  const int64_t n = x.size(0);
  const int64_t parts = std::min<int64_t>(poolThreads(), n / kMinRowsPerPart);
  if (parts <= 1) return at::linear(x, w);
  at::Tensor y = at::empty({n, w.size(0)}, x.options());
  Parts job{&x, &w, &y, (n + parts - 1) / parts, c10::InferenceMode::is_enabled(), {}};
  const int tasks = static_cast<int>((n + job.rowsPerPart - 1) / job.rowsPerPart);
  job.errors.resize(static_cast<size_t>(tasks));
  runOnPool(tasks, partTask, &job);
  for (const std::exception_ptr& e : job.errors) {
    if (e) std::rethrow_exception(e);
  }
  return y;
}

}  // namespace kvs::kernels
