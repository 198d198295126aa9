// softmaxRowInPlace in AVX-512: a vector maximum, then e^(s - max) sixteen at a time with the
// function below, summed in sixteen lanes, then one division per entry. The scalar expf call per
// score was the largest single cost left in a stories260K decode step after its tensor ops.
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

namespace kvs::kernels {
namespace {

// e^x for x <= 0, the only arguments a softmax gives it once the maximum is subtracted.
// x = k ln2 + r, k = round(x / ln2), |r| <= ln2 / 2, with ln2 split into a high part of 15
// significant bits (k ln2hi is exact for |k| < 512) and the rest; e^r by its Taylor series to
// r^7 in Horner form (the first term left out is under 6e-9 relative at |r| = ln2 / 2); 2^k put
// into the exponent field. Below -87.33, where e^x is under float's smallest normal number, and
// for -inf (a masked score), 0.
__m512 expNonPositive(__m512 x) {
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606820309417232e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512i biased = _mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127));
  const __m512 twoToK = _mm512_castsi512_ps(_mm512_slli_epi32(biased, 23));
  const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33f), _CMP_GE_OQ);
  return _mm512_maskz_mul_ps(normal, p, twoToK);
}

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
