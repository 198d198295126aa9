#include "kernels/softmax_row.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/gemv.h"

namespace kvs::kernels {

void softmaxRowPlain(float* s, int64_t n) {
  // The maximum over eight running maxima, eight entries a step: one chain of compares and
  // branches was a third of the decode step's own time on stories260K.
  float tops[8];
  std::fill_n(tops, 8, -std::numeric_limits<float>::infinity());
  int64_t t = 0;
  for (; t + 8 <= n; t += 8) {
    for (int j = 0; j < 8; ++j) tops[j] = s[t + j] > tops[j] ? s[t + j] : tops[j];
  }
  for (; t < n; ++t) tops[0] = std::max(tops[0], s[t]);
  const float top = *std::max_element(tops, tops + 8);
  float sum = 0;
  for (t = 0; t < n; ++t) sum += (s[t] = std::exp(s[t] - top));
  for (t = 0; t < n; ++t) s[t] /= sum;
}

void softmaxRowInPlace(float* s, int64_t n) {
  if (activeIsa() >= Isa::kAvx512) return softmaxRowAvx512(s, n);
  softmaxRowPlain(s, n);
}

}  // namespace kvs::kernels
