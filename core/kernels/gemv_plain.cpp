// The plain loop: what runs on a CPU without AVX2, and the shape the SIMD loops follow.

#include <c10/util/Half.h>

#include <cstring>

#include "kernels/gemv_rows.h"

namespace kvs::kernels {
namespace {

float widen(const float* row, int64_t k) {
  return row[k];
}
float widen(const uint16_t* row, int64_t k, bool bf16) {
  if (bf16) {  // bfloat16 is the high half of a float32
    const uint32_t bits = uint32_t{row[k]} << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  return static_cast<float>(c10::Half(row[k], c10::Half::from_bits()));
}

}  // namespace

void matvecRowsPlain(const MatvecJob& job, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    float sum = 0;
    if (job.type == WeightType::kFloat32) {
      const float* row = static_cast<const float*>(job.w) + r * job.ld;
      for (int64_t k = 0; k < job.in; ++k) sum += widen(row, k) * job.x[k];
    } else {
      const uint16_t* row = static_cast<const uint16_t*>(job.w) + r * job.ld;
      const bool bf16 = job.type == WeightType::kBFloat16;
      for (int64_t k = 0; k < job.in; ++k) sum += widen(row, k, bf16) * job.x[k];
    }
    job.y[r] = sum;
  }
}

void weightedRowsPlain(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                       const float* p, float* y) {
  for (int64_t c = 0; c < cols; ++c) y[c] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (type == WeightType::kFloat32) {
      const float* row = static_cast<const float*>(w) + r * ld;
      for (int64_t c = 0; c < cols; ++c) y[c] += p[r] * row[c];
    } else {
      const uint16_t* row = static_cast<const uint16_t*>(w) + r * ld;
      const bool bf16 = type == WeightType::kBFloat16;
      for (int64_t c = 0; c < cols; ++c) y[c] += p[r] * widen(row, c, bf16);
    }
  }
}

}  // namespace kvs::kernels
