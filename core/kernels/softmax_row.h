#pragma once
// Softmax of one float32 row in place, for the one-token decode step (model/cpu_decode_step.h),
// where a call per (query head, layer) over a few hundred scores must not cost a tensor op. On
// AVX-512 it runs sixteen lanes with its own e^x (softmax_row_avx512.cpp); elsewhere std::exp.

#include <cstdint>

namespace kvs::kernels {

// s[0, n) <- exp(s - max) / sum exp(s - max); -inf entries (masked slots) become 0. n >= 1 and
// at least one entry finite.
void softmaxRowInPlace(float* s, int64_t n);

// The loops behind it, by instruction set (softmaxRowInPlace picks by kernels::activeIsa()).
void softmaxRowPlain(float* s, int64_t n);
void softmaxRowAvx512(float* s, int64_t n);

}  // namespace kvs::kernels
