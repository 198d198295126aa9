// softmaxRowInPlace in AVX-512: a vector maximum, then e^(s - max) sixteen at a time with the
// kernels/exp_avx512.h, summed in sixteen lanes, then one division per entry. The scalar expf call
// per score was the largest single cost left in a stories260K decode step after its tensor ops.
// Compiled for AVX-512 in this file only.

#include <immintrin.h>

#include <cstdint>

#include "kernels/softmax_row.h"

#pragma GCC push_options
// As in gemv_avx512.cpp: GCC 12's own _mm512_undefined_* idiom in the intrinsics headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,fma")

#include "kernels/exp_avx512.h"  // after the target: its function is AVX-512 code

namespace kvs::kernels {
namespace {

__mmask16 tailMask(int64_t left) {
  return left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

}  // namespace

void softmaxRowAvx512(float* s, int64_t n) {
  const __m512 minusInf = _mm512_set1_ps(-__builtin_inff());
  __m512 top = minusInf;
  __mmask16 nan = 0;  // vmaxps drops NaN lanes: a NaN score (a corrupt cache) is looked for apart
  for (int64_t t = 0; t < n; t += 16) {
    const __m512 v = _mm512_mask_loadu_ps(minusInf, tailMask(n - t), s + t);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    top = _mm512_max_ps(top, v);
  }
  if (nan) {  // as the plain loop and LibTorch's softmax: the whole row NaN
    for (int64_t t = 0; t < n; ++t) s[t] = __builtin_nanf("");
    return;
  }
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(top));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t t = 0; t < n; t += 16) {
    const __mmask16 m = tailMask(n - t);
    const __m512 e = expNonPositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + t), max));
    _mm512_mask_storeu_ps(s + t, m, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(m, e));
  }
  const __m512 total = _mm512_set1_ps(_mm512_reduce_add_ps(sum));
  for (int64_t t = 0; t < n; t += 16) {
    const __mmask16 m = tailMask(n - t);
    _mm512_mask_storeu_ps(s + t, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, s + t), total));
  }
}

}  // namespace kvs::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options
