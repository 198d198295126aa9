#include "compress/merging_sets.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <set>

namespace kvs {

namespace {

// Eight independent lanes, so the compiler vectorises the sum without reassociating it.
float dot(const float* a, const float* b, int64_t n) {
  float lanes[8] = {};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8) {
    for (int j = 0; j < 8; ++j) lanes[j] += a[d + j] * b[d + j];
  }
  float sum = 0;
  for (float v : lanes) sum += v;
  for (; d < n; ++d) sum += a[d] * b[d];
  return sum;
}

}  // namespace

std::vector<float> adjacentCosine(const at::Tensor& keys) {
  const int64_t S = keys.size(0);
  if (S < 2) return {};
  // Plain loops over one float copy: compressing a 7B-shaped cache calls this for 1,024 heads,
  // and tensor temporaries per call cost more than the arithmetic.
  const at::Tensor k = keys.to(at::kCPU, at::kFloat).contiguous();  // [S, D]
  const int64_t D = k.size(1);
  const float* row = k.data_ptr<float>();
  std::vector<float> norms(S);
  for (int64_t i = 0; i < S; ++i) {
    norms[i] = std::max(std::sqrt(dot(row + i * D, row + i * D, D)), 1e-6f);
  }
  std::vector<float> cos(S - 1);
  for (int64_t i = 0; i + 1 < S; ++i) {
    cos[i] = dot(row + i * D, row + (i + 1) * D, D) / (norms[i] * norms[i + 1]);
  }
  return cos;
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
  // The scan makes S - j sets, j being the number of pairs (i, i+1), neither protected, with
  // cos[i] > eps. So the sets fit when at least need = S - target of these eligible cosines
  // exceed eps: when eps lies below the need-th largest of them. The answer is the largest
  // candidate threshold (a cosine value, or 1.0001 for no merging) below that, found in O(S).
  const int S = static_cast<int>(isProtected.size());
  const int need = S - target;
  if (need <= 0) return 1.0001;  // no merging needed
  std::vector<float> eligible;
  double lowest = 1.0001;
  for (int i = 0; i + 1 < S; ++i) {
    lowest = std::min(lowest, static_cast<double>(cos[i]));
    if (!isProtected[i] && !isProtected[i + 1]) eligible.push_back(cos[i]);
  }
  const double mostMerging = std::nextafter(lowest, -2.0);
  // Protected slots alone exceed the target: the most merging allowed.
  if (need > static_cast<int>(eligible.size())) return mostMerging;
  std::nth_element(eligible.begin(), eligible.begin() + (need - 1), eligible.end(),
                   std::greater<float>());
  const float bound = eligible[need - 1];
  double best = mostMerging;
  for (int i = 0; i + 1 < S; ++i) {
    if (cos[i] < bound && cos[i] > best) best = cos[i];
  }
  return best;
}

SetDecision decideMergingSets(const std::vector<float>& cos, const std::vector<double>& attention,
                              int recent, int heavy, int target, bool exactBudget, double eps) {
  const int S = static_cast<int>(attention.size());
  recent = std::clamp(recent, 0, S);
  SetDecision d;
  d.isProtected = protectedSlots(attention, recent, heavy);
  if (!exactBudget) {
    d.eps = eps;
    d.sets = identifyMergingSets(cos, d.isProtected, eps);
    return d;
  }
  d.eps = epsForBudget(cos, d.isProtected, target);
  d.sets = identifyMergingSets(cos, d.isProtected, d.eps);
  if (static_cast<int>(d.sets.size()) <= target) return d;  // the usual case: nothing released
  // Release order: heavy hitters by rising attention (ties: the later first, the reverse of
  // protectedSlots' choice), then recent slots oldest first.
  std::vector<int> releasable;
  for (int i = 0; i < S - recent; ++i) {
    if (d.isProtected[i]) releasable.push_back(i);
  }
  std::sort(releasable.begin(), releasable.end(), [&](int a, int b) {
    return attention[a] != attention[b] ? attention[a] < attention[b] : a > b;
  });
  for (int i = S - recent; i < S; ++i) releasable.push_back(i);
  // Releasing one protected token never raises the fewest sets the scan can make (it removes a
  // singleton and joins at most two runs, or adds one run), so the fewest releases that fit are
  // found by bisection: O(S log R) instead of a scan per release.
  const std::vector<char> protectedFirst = d.isProtected;
  const auto attempt = [&](int released) {
    d.isProtected = protectedFirst;
    for (int i = 0; i < released; ++i) d.isProtected[releasable[i]] = 0;
    d.releasedProtected = released;
    d.eps = epsForBudget(cos, d.isProtected, target);
    d.sets = identifyMergingSets(cos, d.isProtected, d.eps);
    return static_cast<int>(d.sets.size()) <= target;
  };
  int fails = 0, fits = static_cast<int>(releasable.size());  // attempt(fits) holds for target >= 1
  while (fits - fails > 1) {
    const int mid = fails + (fits - fails) / 2;
    (attempt(mid) ? fits : fails) = mid;
  }
  attempt(fits);
  return d;
}

int pivotOf(const std::vector<double>& attention, const MergingSet& set) {
  int pivot = set.first;
  for (int j = set.first + 1; j <= set.last; ++j) {
    if (attention[j] > attention[pivot]) pivot = j;
  }
  return pivot;
}

GaussianMerge gaussianMerge(const at::Tensor& keys, const std::vector<double>& attention,
                            const MergingSet& set, double sigma, SigmaMode mode) {
  const at::Tensor k = keys.to(at::kCPU, at::kFloat).contiguous();  // no copy when it already is
  return gaussianMerge(k.data_ptr<float>(), k.size(1), attention, set, sigma, mode);
}

GaussianMerge gaussianMerge(const float* base, int64_t D, const std::vector<double>& attention,
                            const MergingSet& set, double sigma, SigmaMode mode) {
  // Plain loops: a 7B-shaped cache has ~10^5 sets per layer, too many for per-set tensor ops.
  GaussianMerge m;
  const int n = set.size();
  m.pivot = pivotOf(attention, set);
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
