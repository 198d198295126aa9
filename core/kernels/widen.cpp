#include "kernels/widen.h"

#include <ATen/ATen.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/gemv.h"
#include "kernels/worker_pool.h"

namespace kvs::kernels {
namespace {

// Elements per task: 4 MB of float16, so a task streams long runs and a small tensor is one task.
constexpr int64_t kChunk = int64_t{1} << 21;

struct Widen {
  const uint16_t* in;
  float* out;
  int64_t n;
  bool simd;
};

__attribute__((target("avx2,f16c"))) void widenF16c(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

void widenPlain(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(c10::Half(in[i], c10::Half::from_bits()));
}

void widenTask(int index, void* context) {
  const Widen& w = *static_cast<const Widen*>(context);
  const int64_t begin = index * kChunk, count = std::min(w.n, begin + kChunk) - begin;
  if (w.simd) {
    widenF16c(w.in + begin, w.out + begin, count);
  } else {
    widenPlain(w.in + begin, w.out + begin, count);
  }
}

}  // namespace

at::Tensor widenToFloat(const at::Tensor& t) {
  if (!t.device().is_cpu() || t.scalar_type() != at::kHalf || !t.is_contiguous()) {
    return t.to(at::kFloat);
  }
  at::Tensor out = at::empty(t.sizes(), t.options().dtype(at::kFloat));
  Widen w{reinterpret_cast<const uint16_t*>(t.data_ptr<at::Half>()), out.data_ptr<float>(),
          t.numel(), activeIsa() != Isa::kPlain};
  runOnPool(static_cast<int>((w.n + kChunk - 1) / kChunk), widenTask, &w);
  return out;
}

}  // namespace kvs::kernels
