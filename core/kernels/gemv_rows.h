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
};

void matvecRowsPlain(const MatvecJob& job, int64_t begin, int64_t end);
void matvecRowsAvx2(const MatvecJob& job, int64_t begin, int64_t end);    // AVX2, FMA, F16C
void matvecRowsAvx512(const MatvecJob& job, int64_t begin, int64_t end);  // AVX-512 F, BW, VL

// y[0, cols) = sum over rows r of p[r] * W[r, 0:cols); W of type with row stride ld.
void weightedRowsPlain(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                       const float* p, float* y);
void weightedRowsAvx2(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                      const float* p, float* y);
void weightedRowsAvx512(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                        const float* p, float* y);

}  // namespace kvs::kernels
