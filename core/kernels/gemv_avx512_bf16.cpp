// AVX-512 BF16 rows of y = W x for a bfloat16 W and an x whose values are bfloat16 (a bfloat16
// model's activations). vdpbf16ps multiplies 32 pairs of bfloat16 per instruction and adds each
// two neighbouring products into a float32 lane: a product of two bfloat16 values is exact in
// float32, so the result differs from widening both and using FMA only in the order of the float32
// additions (and in flushing subnormals, which the instruction does). Widening each weight in
// registers (gemv_avx512.cpp) costs a shift and an FMA per 16 weights and kept one core below its
// read bandwidth. Compiled for AVX-512 BF16 in this file only; gemv.cpp calls it when the CPU has
// it.

#include <immintrin.h>

#include <cstdint>

#include "kernels/gemv_rows.h"

#pragma GCC push_options
// As in gemv_avx512.cpp: GCC 12's own _mm512_undefined_* idiom in the intrinsics headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")

namespace kvs::kernels {
namespace {

__m512bh loadPairs(const uint16_t* p) {  // 32 bfloat16
  return (__m512bh)_mm512_loadu_si512(p);
}
__m512bh loadPairsTail(const uint16_t* p, __mmask32 m) {  // the first popcount(m), zeros after
  return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

// Rows r .. r+R-1 (R = 4, or 1 for the last rows), 64 weights of each row per step (two lines),
// two accumulators per row so that consecutive vdpbf16ps do not wait on each other.
template <int R, bool Next>
void rowsAt(const uint16_t* w, int64_t ld, const uint16_t* x, int64_t in, float* y) {
  __m512 acc[R], acc2[R];
  for (int i = 0; i < R; ++i) acc[i] = acc2[i] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 64 <= in; k += 64) {
    const __m512bh x0 = loadPairs(x + k), x1 = loadPairs(x + k + 32);
    for (int i = 0; i < R; ++i) {
      if (Next) {  // the same columns of the next R rows (gemv_rows.h)
        prefetchNextRows(w + (i + R) * ld + k);
        prefetchNextRows(w + (i + R) * ld + k + 32);
      }
      acc[i] = _mm512_dpbf16_ps(acc[i], loadPairs(w + i * ld + k), x0);
      acc2[i] = _mm512_dpbf16_ps(acc2[i], loadPairs(w + i * ld + k + 32), x1);
    }
  }
  for (; k + 32 <= in; k += 32) {
    const __m512bh xv = loadPairs(x + k);
    for (int i = 0; i < R; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], loadPairs(w + i * ld + k), xv);
  }
  if (k < in) {  // 1 to 31 left; zeros in both operands beyond them add nothing
    const __mmask32 m = static_cast<__mmask32>((uint64_t{1} << (in - k)) - 1);
    const __m512bh xv = loadPairsTail(x + k, m);
    for (int i = 0; i < R; ++i) {
      acc[i] = _mm512_dpbf16_ps(acc[i], loadPairsTail(w + i * ld + k, m), xv);
    }
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i], acc2[i]));
}

}  // namespace

void matvecRowsAvx512Bf16(const MatvecJob& job, int64_t begin, int64_t end) {
  const auto* w = static_cast<const uint16_t*>(job.w);
  int64_t r = begin;
  for (; r + 8 <= end; r += 4)
    rowsAt<4, true>(w + r * job.ld, job.ld, job.xBf16, job.in, job.y + r);
  for (; r + 4 <= end; r += 4) {
    rowsAt<4, false>(w + r * job.ld, job.ld, job.xBf16, job.in, job.y + r);
  }
  for (; r < end; ++r) rowsAt<1, false>(w + r * job.ld, job.ld, job.xBf16, job.in, job.y + r);
}

}  // namespace kvs::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options
