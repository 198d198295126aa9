// KVMerger's exact budget: the eps reported per head is the one a plain search over every
// candidate threshold finds, and scattered protection is released, weakest first, until it fits.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compression_fixture.h"
#include "test_util.h"

namespace kvs {
namespace {

using test::compressionConfig;
using test::CompressionFixture;
using test::smoothKeys;

// Sets the backward scan makes at eps (plain loops): S minus the merged pairs (i, i+1).
int setsAt(const std::vector<double>& cos, const std::vector<char>& prot, double eps) {
  int merged = 0;
  for (size_t i = 0; i < cos.size(); ++i) merged += !prot[i] && !prot[i + 1] && cos[i] > eps;
  return static_cast<int>(prot.size()) - merged;
}

TEST(ExactBudget, ReportsTheLargestEpsAPlainSearchFinds) {
  const int T = 60, D = 4;
  const at::Tensor K = smoothKeys(2, 2, T, D, 21);
  const at::Tensor A = at::rand({2, 2, T}, at::kDouble);
  CompressionFixture f(compressionConfig(T), K, at::randn({2, 2, T, D}), A);
  CompressionParams p = test::kvmerger(0.5);
  p.recentRatio = 0.1;     // 6 recent
  p.protectedRatio = 0.1;  // 6 heavy hitters
  f.compress(p);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      std::vector<double> cos, a(T);
      for (int i = 0; i + 1 < T; ++i) {
        const at::Tensor x = K[l][h][i].to(at::kDouble), y = K[l][h][i + 1].to(at::kDouble);
        cos.push_back((x * y).sum().item<double>() /
                      (x.norm().item<double>() * y.norm().item<double>()));
      }
      for (int i = 0; i < T; ++i) a[i] = A[l][h][i].item<double>();
      std::vector<char> prot(T, 0);
      for (int i = T - 6; i < T; ++i) prot[i] = 1;
      for (int n = 0; n < 6; ++n) {
        int best = -1;
        for (int i = 0; i < T; ++i) best = !prot[i] && (best < 0 || a[i] > a[best]) ? i : best;
        prot[best] = 1;
      }
      // Candidates: no merging (1.0001) and every cosine; the largest whose sets fit 30 slots.
      double eps = -2;
      for (double c : cos) {
        if (c > eps && setsAt(cos, prot, c) <= 30) eps = c;
      }
      if (setsAt(cos, prot, 1.0001) <= 30) eps = 1.0001;
      EXPECT_NEAR(f.cache.decision(l, h).eps, eps, 1e-6) << "layer " << l << " head " << h;
      EXPECT_EQ(f.cache.decision(l, h).releasedProtected, 0);
      EXPECT_EQ(f.cache.slotCount(l, h), setsAt(cos, prot, eps));
    }
  }
}

TEST(ExactBudget, ReleasesTheWeakestProtectionWhenScatteredProtectedTokensCannotFit) {
  const int T = 40;
  // Rising attention on the even tokens: the 10 protected (top-A) ones are 20, 22, ..., 38, each
  // with an unprotected odd token after it. Slots needed with protected set P: |P| + the runs of
  // unprotected tokens = 10 + 11 = 21 > 12. Releasing the weakest protected token (20, then 22,
  // ...) joins two runs: 2 slots fewer each, so 5 releases leave 30..38 protected, 5 + 6 = 11.
  at::Tensor A = at::zeros({2, 2, T});
  for (int t = 0; t < T; t += 2) A.select(2, t).fill_(1.0 + 0.01 * t);
  CompressionFixture f(compressionConfig(T), smoothKeys(2, 2, T, 4, 9), at::randn({2, 2, T, 4}), A);
  CompressionParams p = test::kvmerger(0.5);
  p.budgetTokens = 12;
  p.recentRatio = 0;
  p.protectedRatio = 0.25;
  ASSERT_NO_THROW(f.compress(p));
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      EXPECT_LE(f.cache.slotCount(l, h), 12);
      EXPECT_EQ(f.cache.decision(l, h).releasedProtected, 5) << "layer " << l << " head " << h;
      std::vector<int> singletons;
      for (const Slot& s : f.cache.cells(l, h)) {
        if (s.count == 1 && s.first >= 20) singletons.push_back(s.first);
      }
      for (int t : {30, 32, 34, 36, 38}) {
        EXPECT_NE(std::find(singletons.begin(), singletons.end(), t), singletons.end())
            << "protected token " << t << " was merged";
      }
    }
  }
}

}  // namespace
}  // namespace kvs
