#include "analysis/similarity.h"

#include <ATen/ATen.h>

namespace kvs {

at::Tensor cosineSimilarityMatrix(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "cosineSimilarityMatrix expects [T, D]");
  const at::Tensor unit = x.to(at::kFloat) / x.to(at::kFloat).norm(2, 1, true).clamp_min(1e-6);
  return at::mm(unit, unit.t());
}

}  // namespace kvs
