#pragma once
// The per-ISA row loops behind kernels/gemv.h; each computes rows [begin, end) of y = W x.

#include <cstdint>

#include "kernels/gemv.h"

namespace kvs::kernels {

struct MatvecJob {
  const void* w = nullptr;  // [out, ld] row-major, of type
  WeightType type = WeightType::kFloat32;
  int64_t in = 0, ld = 0;
  const float* x = nullptr;  // [in]
  float* y = nullptr;        // [out]
  // [in] x in bfloat16, set (with a bfloat16 W, and x null) only for matvecRowsAvx512Bf16
  const uint16_t* xBf16 = nullptr;
};

// Prefetches the 64 bytes at p (32 weights of 16 bits or 16 floats): the AVX loops call it for
// the same columns of the next four rows while they read the current four. A row of a bfloat16
// 2048-column matrix is one 4 KiB page, and the hardware's stream prefetcher starts anew at each
// page: without this, one core read bfloat16 rows at 6.6-9.5 GB/s, with it 9.5-11.5 (the
// float32 loops, with two lines per step, read 12.5).
template <typename T>
inline void prefetchNextRows(const T* p) {
  __builtin_prefetch(p, 0, 3);
  if constexpr (sizeof(T) == 4) __builtin_prefetch(p + 16, 0, 3);
}

void matvecRowsPlain(const MatvecJob& job, int64_t begin, int64_t end);
void matvecRowsAvx2(const MatvecJob& job, int64_t begin, int64_t end);    // AVX2, FMA, F16C
void matvecRowsAvx512(const MatvecJob& job, int64_t begin, int64_t end);  // AVX-512 F, BW, VL
// A bfloat16 W times job.xBf16 with vdpbf16ps (AVX-512 BF16).
void matvecRowsAvx512Bf16(const MatvecJob& job, int64_t begin, int64_t end);

// y[0, cols) = sum over rows r of p[r] * W[r, 0:cols); W of type with row stride ld.
void weightedRowsPlain(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                       const float* p, float* y);
void weightedRowsAvx2(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                      const float* p, float* y);
void weightedRowsAvx512(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                        const float* p, float* y);

}  // namespace kvs::kernels
