// AVX-512 rows of y = W x. Four rows at a time share each load of x (16 floats); a weight in
// bfloat16 or float16 is widened in registers (bfloat16: the high half of a float32; float16:
// vcvtph2ps), so it is read from memory at its own size. The tail of a row is a masked load.
// Compiled for AVX-512 in this file only; gemv.cpp calls it when the CPU has it.

#include <immintrin.h>

#include <cstdint>

#include "kernels/gemv_rows.h"

#pragma GCC push_options
// GCC 12 reports its own _mm512_undefined_* idiom (a variable initialised from itself) inside
// the intrinsics headers as maybe-uninitialized; the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")

namespace kvs::kernels {
namespace {

struct F32 {
  using T = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 loadTail(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct BF16 {
  using T = uint16_t;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load(const uint16_t* p) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 loadTail(const uint16_t* p, __mmask16 m) {
    return widen(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct F16 {
  using T = uint16_t;
  static __m512 load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 loadTail(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};

// Rows r .. r+R-1 (R = 4, or 1 for the last rows). Each step reads a whole 64-byte line of
// each row (32 weights of 16 bits, or 16 floats twice over two steps): with half-line steps the
// 16-bit weights streamed at 30% less bandwidth than float32 on one core. With Next, each step
// also prefetches the same columns of the next R rows (see gemv_rows.h's prefetchNextRows).
template <typename L, int R, bool Next>
void rowsAt(const typename L::T* w, int64_t ld, const float* x, int64_t in, float* y) {
  __m512 acc[R], acc2[R];
  for (int i = 0; i < R; ++i) acc[i] = acc2[i] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= in; k += 32) {
    const __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
    for (int i = 0; i < R; ++i) {
      if (Next) prefetchNextRows(w + (i + R) * ld + k);
      acc[i] = _mm512_fmadd_ps(L::load(w + i * ld + k), x0, acc[i]);
      acc2[i] = _mm512_fmadd_ps(L::load(w + i * ld + k + 16), x1, acc2[i]);
    }
  }
  for (; k + 16 <= in; k += 16) {
    const __m512 xv = _mm512_loadu_ps(x + k);
    for (int i = 0; i < R; ++i) acc[i] = _mm512_fmadd_ps(L::load(w + i * ld + k), xv, acc[i]);
  }
  if (k < in) {
    const __mmask16 m = static_cast<__mmask16>((1u << (in - k)) - 1);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
    for (int i = 0; i < R; ++i) {
      acc[i] = _mm512_fmadd_ps(L::loadTail(w + i * ld + k, m), xv, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i], acc2[i]));
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

void matvecRowsAvx512(const MatvecJob& job, int64_t begin, int64_t end) {
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

// y[0, cols) += p * row[0, cols), sixteen columns at a time, the last ones masked.
template <typename L>
void weightedRows(const void* w, int64_t rows, int64_t cols, int64_t ld, const float* p, float* y) {
  const auto* base = static_cast<const typename L::T*>(w);
  for (int64_t c = 0; c < cols; c += 16) {
    const __mmask16 m =
        cols - c >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (cols - c)) - 1);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t r = 0; r < rows; ++r) {
      acc = _mm512_fmadd_ps(L::loadTail(base + r * ld + c, m), _mm512_set1_ps(p[r]), acc);
    }
    _mm512_mask_storeu_ps(y + c, m, acc);
  }
}

}  // namespace

void weightedRowsAvx512(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
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

#pragma GCC diagnostic pop
#pragma GCC pop_options
