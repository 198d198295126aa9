#include "compress/merging_sets.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace kvs {

std::vector<float> adjacentCosine(const at::Tensor& keys) {
  const int64_t S = keys.size(0);
  if (S < 2) return {};
  const at::Tensor k = keys.to(at::kCPU, at::kFloat);
  const at::Tensor norms = k.norm(2, 1).clamp_min(1e-6);  // [S]
  const at::Tensor dots = (k.narrow(0, 0, S - 1) * k.narrow(0, 1, S - 1)).sum(1);
  const at::Tensor cos =
      (dots / (norms.narrow(0, 0, S - 1) * norms.narrow(0, 1, S - 1))).contiguous();
  return std::vector<float>(cos.data_ptr<float>(), cos.data_ptr<float>() + S - 1);
}

std::vector<char> protectedSlots(const std::vector<double>& attention, int recent, int heavy) {
  const int S = static_cast<int>(attention.size());
  recent = std::clamp(recent, 0, S);
  std::vector<char> prot(S, 0);
  for (int i = S - recent; i < S; ++i) prot[i] = 1;
  std::vector<int> rest(S - recent);
  std::iota(rest.begin(), rest.end(), 0);
  heavy = std::clamp(heavy, 0, static_cast<int>(rest.size()));
  std::partial_sort(rest.begin(), rest.begin() + heavy, rest.end(), [&](int a, int b) {
    return attention[a] != attention[b] ? attention[a] > attention[b] : a < b;
  });
  for (int i = 0; i < heavy; ++i) prot[rest[i]] = 1;
  return prot;
}

std::vector<MergingSet> identifyMergingSets(const std::vector<float>& cos,
                                            const std::vector<char>& isProtected, double eps) {
  const int S = static_cast<int>(isProtected.size());
  std::vector<MergingSet> reversed;
  for (int i = S - 1; i >= 0; --i) {
    const bool joins =
        i + 1 < S && !reversed.empty() && !isProtected[i] && !isProtected[i + 1] && cos[i] > eps;
    if (joins) {
      reversed.back().first = i;
    } else {
      reversed.push_back({i, i});
    }
  }
  return std::vector<MergingSet>(reversed.rbegin(), reversed.rend());
}

double epsForBudget(const std::vector<float>& cos, const std::vector<char>& isProtected,
                    int target) {
  // Size only changes at the cosine values themselves; search them (ascending) for the largest
  // eps that fits. A larger eps merges less.
  std::vector<double> candidates(cos.begin(), cos.end());
  candidates.push_back(1.0001);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  auto fits = [&](double eps) {
    return static_cast<int>(identifyMergingSets(cos, isProtected, eps).size()) <= target;
  };
  if (fits(candidates.back())) return candidates.back();  // no merging needed
  const double mostMerging = std::nextafter(candidates.front(), -2.0);
  if (!fits(mostMerging)) return mostMerging;  // protected slots alone exceed the target
  // fits(candidates[lo]) (lo == -1: only mostMerging fits); !fits(candidates[hi])
  int lo = -1, hi = static_cast<int>(candidates.size()) - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (fits(candidates[mid]) ? lo : hi) = mid;
  }
  return lo < 0 ? mostMerging : candidates[lo];
}

GaussianMerge gaussianMerge(const at::Tensor& keys, const std::vector<double>& attention,
                            const MergingSet& set, double sigma, SigmaMode mode) {
  // Plain loops: a 7B-shaped cache has ~10^5 sets per layer, too many for per-set tensor ops.
  const at::Tensor k = keys.to(at::kCPU, at::kFloat).contiguous();  // no copy when it already is
  const int64_t D = k.size(1);
  const float* base = k.data_ptr<float>();
  GaussianMerge m;
  const int n = set.size();
  m.pivot = set.first;
  for (int j = set.first + 1; j <= set.last; ++j) {
    if (attention[j] > attention[m.pivot]) m.pivot = j;
  }
  std::vector<double> d2(n, 0.0);  // ||K[p] - K[j]||^2
  const float* pivot = base + m.pivot * D;
  for (int j = 0; j < n; ++j) {
    const float* row = base + (set.first + j) * D;
    double sum = 0;
    for (int64_t d = 0; d < D; ++d) sum += double(row[d] - pivot[d]) * double(row[d] - pivot[d]);
    d2[j] = sum;
  }
  auto kernel = [&](double s) {
    std::vector<double> g(n);
    for (int j = 0; j < n; ++j) g[j] = std::exp(-d2[j] / (2 * s * s));
    return g;
  };
  switch (mode) {
    case SigmaMode::kFixed:
      m.sigma = sigma;
      break;
    case SigmaMode::kMeanDistance: {
      double sum = 0;
      for (int j = 0; j < n; ++j) sum += std::sqrt(d2[j]);
      m.sigma = sum / (std::sqrt(2.0) * n);
      break;
    }
    case SigmaMode::kLiteral: {
      const auto g0 = kernel(1.0);
      m.sigma = std::accumulate(g0.begin(), g0.end(), 0.0) / (std::sqrt(2.0) * n);
      break;
    }
  }
  m.sigma = std::max(m.sigma, 1e-6);  // identical keys give 0: any sigma gives uniform weights
  const auto g = kernel(m.sigma);
  const double total = std::accumulate(g.begin(), g.end(), 0.0);  // >= g_pivot = 1
  for (double v : g) m.weights.push_back(static_cast<float>(v / total));
  return m;
}

}  // namespace kvs
