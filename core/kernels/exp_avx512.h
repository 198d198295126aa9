#pragma once
// e^x on sixteen float32 lanes, for the softmax loops compiled for AVX-512 (softmax_row_avx512.cpp,
// causal_attention_avx512.cpp). Include it only from a file compiled for AVX-512 (inside its
// `#pragma GCC target`), after <immintrin.h>.

namespace kvs::kernels {

// e^x for x <= 0, the only arguments a softmax gives it once the maximum is subtracted.
// x = k ln2 + r, k = round(x / ln2), |r| <= ln2 / 2, with ln2 split into a high part of 15
// significant bits (k ln2hi is exact for |k| < 512) and the rest; e^r by its Taylor series to
// r^7 in Horner form (the first term left out is under 6e-9 relative at |r| = ln2 / 2); 2^k put
// into the exponent field. Below -87.33, where e^x is under float's smallest normal number, and
// for -inf (a masked score), 0.
inline __m512 expNonPositive(__m512 x) {
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

}  // namespace kvs::kernels
