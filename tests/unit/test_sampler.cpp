#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "model/sampler.h"
#include "util/error.h"

namespace kvs {
namespace {

std::vector<float> logitsOf(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

std::map<int, int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::map<int, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[s.sample(logits.data(), int(logits.size()))];
  return counts;
}

TEST(Sampler, GreedyTakesTheLowestIndexOnTies) {
  Sampler s({0.0f, 0.9f, 1});
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
  EXPECT_EQ(s.sample(at::tensor(logits)), 1);
}

TEST(Sampler, SameSeedSameTokensOtherSeedOtherTokens) {
  const std::vector<float> logits(50, 0.0f);  // uniform
  Sampler a({1.0f, 1.0f, 42}), b({1.0f, 1.0f, 42}), c({1.0f, 1.0f, 43});
  std::vector<int> ta, tb, tc;
  for (int i = 0; i < 40; ++i) {
    ta.push_back(a.sample(logits.data(), 50));
    tb.push_back(b.sample(logits.data(), 50));
    tc.push_back(c.sample(logits.data(), 50));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
}

TEST(Sampler, FrequenciesFollowTheTemperatureScaledDistribution) {
  const std::vector<double> p = {0.5, 0.25, 0.15, 0.1};
  Sampler s({2.0f, 1.0f, 7});
  const auto counts = histogram(s, logitsOf(p), 40000);
  // softmax(log p / 2) = sqrt(p) / sum sqrt(p)
  double z = 0;
  for (double v : p) z += std::sqrt(v);
  for (int i = 0; i < 4; ++i) {
    const double expected = std::sqrt(p[i]) / z;
    EXPECT_NEAR(counts.at(i) / 40000.0, expected, 0.01) << "token " << i;
  }
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingTheMass) {
  const std::vector<double> p = {0.1, 0.5, 0.05, 0.3, 0.05};
  Sampler s({1.0f, 0.7f, 3});
  const auto counts = histogram(s, logitsOf(p), 20000);
  // 0.5 (id 1) + 0.3 (id 3) = 0.8 >= 0.7: only ids 1 and 3, renormalised to 5/8 and 3/8.
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts.at(1) / 20000.0, 0.625, 0.015);
  EXPECT_NEAR(counts.at(3) / 20000.0, 0.375, 0.015);
}

TEST(Sampler, TinyTopPIsGreedy) {
  Sampler s({1.0f, 1e-6f, 3});
  const std::vector<float> logits = {0.0f, 3.0f, 2.9f};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.sample(logits.data(), 3), 1);
}

TEST(Sampler, RejectsBadParameters) {
  EXPECT_THROW(Sampler({-0.1f, 0.9f, 0}), KvsError);
  EXPECT_THROW(Sampler({NAN, 0.9f, 0}), KvsError);
  EXPECT_THROW(Sampler({1.0f, 0.0f, 0}), KvsError);
  EXPECT_THROW(Sampler({1.0f, 1.5f, 0}), KvsError);
}

}  // namespace
}  // namespace kvs
