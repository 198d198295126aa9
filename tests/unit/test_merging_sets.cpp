// The fast paths of KVMerger's planning against naive references written here: the adjacent
// cosine curve (double precision), and the exact budget's eps (binary search over every
// candidate threshold, re-running the scan each time).

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "compress/merging_sets.h"

namespace kvs {
namespace {

TEST(AdjacentCosine, EqualsADoublePrecisionReference) {
  at::manual_seed(7);
  const at::Tensor keys =
      at::randn({300, 1}) + 0.2 * at::randn({300, 67});  // D not a multiple of 8
  const auto cos = adjacentCosine(keys);
  ASSERT_EQ(cos.size(), 299u);
  const at::Tensor k = keys.to(at::kDouble);
  for (int i = 0; i < 299; ++i) {
    const double want = (k[i] * k[i + 1]).sum().item<double>() /
                        (k[i].norm().item<double>() * k[i + 1].norm().item<double>());
    EXPECT_NEAR(cos[i], want, 1e-5) << "pair " << i;
  }
  // bf16 keys are read as float; a zero row has its norm clamped instead of dividing by zero.
  at::Tensor z = at::zeros({3, 16}, at::kBFloat16);
  z[2].fill_(1);
  const auto zc = adjacentCosine(z);
  EXPECT_EQ(zc[0], 0.0f);
  EXPECT_EQ(zc[1], 0.0f);
}

double naiveEpsForBudget(const std::vector<float>& cos, const std::vector<char>& prot, int target) {
  std::vector<double> candidates(cos.begin(), cos.end());
  candidates.push_back(1.0001);
  std::sort(candidates.begin(), candidates.end());
  double best = std::nextafter(candidates.front(), -2.0);
  for (double c : candidates) {
    if (static_cast<int>(identifyMergingSets(cos, prot, c).size()) <= target) best = c;
  }
  return best;
}

TEST(EpsForBudget, IsTheLargestCandidateThatFits) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(-0.2f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const int S = 2 + static_cast<int>(rng() % 60);
    std::vector<float> cos(S - 1);
    for (float& c : cos) c = (rng() % 4 == 0) ? 0.5f : value(rng);  // with ties
    std::vector<char> prot(S, 0);
    for (char& p : prot) p = rng() % 5 == 0;
    for (int target = 0; target <= S; ++target) {
      EXPECT_EQ(epsForBudget(cos, prot, target), naiveEpsForBudget(cos, prot, target))
          << "trial " << trial << " S " << S << " target " << target;
    }
  }
}

}  // namespace
}  // namespace kvs
