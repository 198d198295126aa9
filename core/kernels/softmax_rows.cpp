#include "kernels/softmax_rows.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "kernels/worker_pool.h"

namespace kvs::kernels {
namespace {

// Below this many scores one thread is quicker than waking another (a decode step's softmax).
constexpr int64_t kThreadedMinElements = int64_t{1} << 16;

struct Rows {
  const at::Tensor* in;  // [R, T]
  at::Tensor* out;       // [R, T] float32
  int64_t rowsPerTask;
  bool inferenceMode;
};

void softmaxTask(int index, void* context) {
  const Rows& r = *static_cast<const Rows*>(context);
  // InferenceMode is per thread: a worker writing into the caller's inference tensors needs it.
  const c10::InferenceMode guard(r.inferenceMode);
  const int64_t begin = index * r.rowsPerTask;
  const int64_t count = std::min(r.in->size(0), begin + r.rowsPerTask) - begin;
  at::Tensor target = r.out->narrow(0, begin, count);
  at::softmax_out(target, r.in->narrow(0, begin, count), -1, at::kFloat);
}

}  // namespace

at::Tensor softmaxRows(const at::Tensor& scores) {
  const int threads = poolThreads();
  if (!scores.device().is_cpu() || threads == 1 || scores.numel() < kThreadedMinElements ||
      !scores.is_contiguous() || scores.dim() < 1 || scores.size(-1) == 0) {
    return at::softmax(scores, -1, at::kFloat);
  }
  const at::Tensor in = scores.view({-1, scores.size(-1)});  // [R, T]
  at::Tensor out = at::empty(in.sizes(), in.options().dtype(at::kFloat));
  const int64_t rows = in.size(0);
  Rows job{&in, &out, (rows + threads - 1) / threads, c10::InferenceMode::is_enabled()};
  runOnPool(static_cast<int>((rows + job.rowsPerTask - 1) / job.rowsPerTask), softmaxTask, &job);
  return out.view(scores.sizes());
}

}  // namespace kvs::kernels
