#include "model/cpu_rows.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "kernels/gemv.h"
#include "kernels/worker_pool.h"
#include "model/rope.h"

namespace kvs {
namespace {

// Below this many elements one thread is quicker than waking another.
constexpr int64_t kThreadedMinElements = 16384;

// body(first, last) over rows [0, rows) in contiguous parts, one per pool thread when the rows
// hold enough elements, on the caller otherwise.
template <class Body>
void splitRows(int64_t rows, int64_t elementsPerRow, const Body& body) {
  const int64_t tasks = rows * elementsPerRow >= kThreadedMinElements
                            ? std::min<int64_t>(kernels::poolThreads(), rows)
                            : 1;
  if (tasks <= 1) {
    body(int64_t{0}, rows);
    return;
  }
  struct Job {
    const Body* body;
    int64_t rows, tasks;
  } job{&body, rows, tasks};
  kernels::runOnPool(
      static_cast<int>(tasks),
      [](int index, void* context) {
        const Job& j = *static_cast<const Job*>(context);
        (*j.body)(j.rows * index / j.tasks, j.rows * (index + 1) / j.tasks);
      },
      &job);
}

// Row r of x viewed as rows of its last axis: [A, C] or [A, B, C] with any strides but the last.
const float* rowOf(const at::Tensor& x, const float* base, int64_t r) {
  if (x.dim() == 2) return base + r * x.stride(0);
  return base + (r / x.size(1)) * x.stride(0) + (r % x.size(1)) * x.stride(1);
}

}  // namespace

void rmsNormRow(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) squares += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(squares / n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void ropeRow(float* x, int64_t heads, int64_t D, const float* cosSin, RopeStyle style) {
  const int64_t half = D / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* row = x + h * D;
    for (int64_t i = 0; i < half; ++i) {
      float& a = style == RopeStyle::kAdjacentPairs ? row[2 * i] : row[i];
      float& b = style == RopeStyle::kAdjacentPairs ? row[2 * i + 1] : row[i + half];
      const float c = cosSin[2 * i], s = cosSin[2 * i + 1], a0 = a, b0 = b;
      a = a0 * c - b0 * s;
      b = a0 * s + b0 * c;
    }
  }
}

void siluGateRow(const float* gateUp, int64_t F, float* out) {
  for (int64_t i = 0; i < F; ++i) {
    out[i] = gateUp[i] / (1.0f + std::exp(-gateUp[i])) * gateUp[F + i];
  }
}

bool cpuRowsHandle(const at::Tensor& x) {
  return kernels::matvecEnabled() && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
         (x.dim() == 2 || x.dim() == 3) && x.stride(-1) == 1;
}

at::Tensor rmsNormRows(const at::Tensor& x, const at::Tensor& weight, float eps) {
  const int64_t C = x.size(-1), rows = x.numel() / std::max<int64_t>(C, 1);
  TORCH_CHECK(cpuRowsHandle(x) && weight.numel() == C,
              "rmsNormRows: x [..., C] float32 on the "
              "CPU with a contiguous last axis and weight [C] expected");
  const at::Tensor w = weight.to(at::kFloat).contiguous();
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  const float *in = x.data_ptr<float>(), *wp = w.data_ptr<float>();
  float* o = out.data_ptr<float>();
  splitRows(rows, C, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) rmsNormRow(rowOf(x, in, r), wp, C, eps, o + r * C);
  });
  return out;
}

at::Tensor ropeRows(const at::Tensor& x, const RotaryEmbedding& rope, int64_t start) {
  TORCH_CHECK(cpuRowsHandle(x) && x.dim() == 3 && x.size(2) % 2 == 0,
              "ropeRows: x [T, H, D] float32 on the CPU with contiguous rows expected");
  const int64_t T = x.size(0), H = x.size(1), D = x.size(2);
  TORCH_CHECK(start >= 0 && start + T <= rope.maxPositions(), "RoPE position out of range");
  TORCH_CHECK(D == rope.headDim(), "ropeRows: head dim ", D, " but the RoPE table's is ",
              rope.headDim());
  // Checked and read here: the pool's tasks must not throw (a table off the CPU would).
  const float* table = rope.cosSinAt(start);  // [T][D/2][cos, sin]
  at::Tensor out = at::empty({T, H, D}, x.options());
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  splitRows(T, H * D, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) {
      for (int64_t h = 0; h < H; ++h) {
        std::copy_n(in + t * x.stride(0) + h * x.stride(1), D, o + (t * H + h) * D);
      }
      ropeRow(o + t * H * D, H, D, table + t * D, rope.style());
    }
  });
  return out;
}

at::Tensor siluGateRows(const at::Tensor& gateUp) {
  TORCH_CHECK(cpuRowsHandle(gateUp) && gateUp.dim() == 2 && gateUp.is_contiguous() &&
                  gateUp.size(1) % 2 == 0,
              "siluGateRows: gateUp [n, 2F] contiguous float32 on the CPU expected");
  const int64_t n = gateUp.size(0), F = gateUp.size(1) / 2;
  at::Tensor out = at::empty({n, F}, gateUp.options());
  const float* in = gateUp.data_ptr<float>();
  float* o = out.data_ptr<float>();
  splitRows(n, 2 * F, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) siluGateRow(in + r * 2 * F, F, o + r * F);
  });
  return out;
}

}  // namespace kvs
