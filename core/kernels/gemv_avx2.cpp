// AVX2 rows of y = W x, for CPUs without AVX-512: the same shape as gemv_avx512.cpp with eight
// floats per register and the tail of a row in scalar code.

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/gemv_rows.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace kvs::kernels {
namespace {

struct F32 {
  using T = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static float one(const float* p) { return *p; }
};
struct BF16 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float one(const uint16_t* p) {
    const uint32_t bits = uint32_t{*p} << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
};
struct F16 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float one(const uint16_t* p) { return _cvtsh_ss(*p); }
};

float sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(_mm_hadd_ps(s, s));
}

// With Next, prefetches the same columns of the next R rows, a line per row every 64 bytes
// (gemv_rows.h's prefetchNextRows).
template <typename L, int R, bool Next>
void rowsAt(const typename L::T* w, int64_t ld, const float* x, int64_t in, float* y) {
  constexpr int64_t kLine = 64 / sizeof(typename L::T);
  __m256 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= in; k += 8) {
    const __m256 xv = _mm256_loadu_ps(x + k);
    for (int i = 0; i < R; ++i) {
      if (Next && k % kLine == 0) prefetchNextRows(w + (i + R) * ld + k);
      acc[i] = _mm256_fmadd_ps(L::load(w + i * ld + k), xv, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) {
    float s = sum(acc[i]);
    for (int64_t t = k; t < in; ++t) s += L::one(w + i * ld + t) * x[t];
    y[i] = s;
  }
}

template <typename L>
void rows(const MatvecJob& job, int64_t begin, int64_t end) {
  const auto* w = static_cast<const typename L::T*>(job.w);
  int64_t r = begin;
  for (; r + 8 <= end; r += 4) {
    rowsAt<L, 4, true>(w + r * job.ld, job.ld, job.x, job.in, job.y + r);
  }
  for (; r + 4 <= end; r += 4) {
    rowsAt<L, 4, false>(w + r * job.ld, job.ld, job.x, job.in, job.y + r);
  }
  for (; r < end; ++r) rowsAt<L, 1, false>(w + r * job.ld, job.ld, job.x, job.in, job.y + r);
}

}  // namespace

void matvecRowsAvx2(const MatvecJob& job, int64_t begin, int64_t end) {
  switch (job.type) {
    case WeightType::kFloat32:
      return rows<F32>(job, begin, end);
    case WeightType::kBFloat16:
      return rows<BF16>(job, begin, end);
    case WeightType::kFloat16:
      return rows<F16>(job, begin, end);
  }
}

namespace {

// y[0, cols) = sum_r p[r] * row_r[0, cols): eight columns at a time in a register across all
// rows, the last columns (fewer than eight) in scalar code.
template <typename L>
void weightedRows(const void* w, int64_t rows, int64_t cols, int64_t ld, const float* p, float* y) {
  const auto* base = static_cast<const typename L::T*>(w);
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t r = 0; r < rows; ++r) {
      acc = _mm256_fmadd_ps(L::load(base + r * ld + c), _mm256_set1_ps(p[r]), acc);
    }
    _mm256_storeu_ps(y + c, acc);
  }
  for (; c < cols; ++c) {
    float sum = 0;
    for (int64_t r = 0; r < rows; ++r) sum += p[r] * L::one(base + r * ld + c);
    y[c] = sum;
  }
}

}  // namespace

void weightedRowsAvx2(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                      const float* p, float* y) {
  switch (type) {
    case WeightType::kFloat32:
      return weightedRows<F32>(w, rows, cols, ld, p, y);
    case WeightType::kBFloat16:
      return weightedRows<BF16>(w, rows, cols, ld, p, y);
    case WeightType::kFloat16:
      return weightedRows<F16>(w, rows, cols, ld, p, y);
  }
}

}  // namespace kvs::kernels

#pragma GCC pop_options
