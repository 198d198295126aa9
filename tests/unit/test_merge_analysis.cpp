// The analysis behind `kvstudio-cli analyze`: merging sets of one head, the layer's compression
// ratio, accumulated attention from probabilities, and the spread over prompts, each against a
// hand-made case or a plain-loop reference.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/merge_analysis.h"

namespace kvs::test {
namespace {

TEST(MergeAnalysis, IdenticalKeysMergeIntoOneSetBeforeTheRecentTokens) {
  const at::Tensor keys = at::ones({20, 4});
  MergeThresholds t;
  t.recentRatio = 0.2;  // 4 tokens
  const HeadSets h = identifyHeadSets(keys, {}, t);
  ASSERT_EQ(h.sets.size(), 5u);  // 0..15, then 16, 17, 18, 19
  EXPECT_EQ(h.sets[0].first, 0);
  EXPECT_EQ(h.sets[0].last, 15);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(h.sets[i].size(), 1);
  EXPECT_DOUBLE_EQ(h.keptFraction(), 5.0 / 20);
}

TEST(MergeAnalysis, OrthogonalKeysStaySingletons) {
  const at::Tensor keys = at::eye(8);
  MergeThresholds t;
  t.recentRatio = 0;
  EXPECT_EQ(identifyHeadSets(keys, {}, t).sets.size(), 8u);
}

TEST(MergeAnalysis, HeavyHittersNeedAttention) {
  const at::Tensor keys = at::ones({10, 2});
  MergeThresholds t;
  t.recentRatio = 0;
  t.protectedRatio = 0.1;  // one token
  std::vector<double> attention(10, 0.0);
  attention[4] = 5;
  const HeadSets with = identifyHeadSets(keys, attention, t);
  // Token 4 is protected: sets 0-3, 4, 5-9.
  ASSERT_EQ(with.sets.size(), 3u);
  EXPECT_EQ(with.sets[1].first, 4);
  EXPECT_EQ(with.sets[1].last, 4);
  EXPECT_EQ(identifyHeadSets(keys, {}, t).sets.size(), 1u);  // no attention: none protected
}

TEST(MergeAnalysis, LayerRatioIsOneMinusMeanKeptFraction) {
  at::manual_seed(3);
  const at::Tensor keys = at::randn({3, 40, 8}).cumsum(1);  // neighbours correlated
  MergeThresholds t;
  t.eps = 0.9;
  double kept = 0;
  for (int h = 0; h < 3; ++h) kept += identifyHeadSets(keys[h], {}, t).keptFraction() / 3;
  EXPECT_NEAR(layerCompressionRatio(keys, {}, t), 1 - kept, 1e-12);
  t.eps = 1.0001;  // nothing merges
  EXPECT_NEAR(layerCompressionRatio(keys, {}, t), 0.0, 1e-12);
}

TEST(MergeAnalysis, AccumulatedAttentionMatchesPlainLoops) {
  at::manual_seed(5);
  const at::Tensor probs = at::softmax(at::randn({4, 6, 6}), -1);  // Hq = 4, Hkv = 2
  const auto acc = accumulatedAttention(probs, 2);
  ASSERT_EQ(acc.size(), 2u);
  for (int kv = 0; kv < 2; ++kv) {
    for (int k = 0; k < 6; ++k) {
      double expected = 0;
      for (int g = 0; g < 2; ++g) {
        for (int q = 0; q < 6; ++q) expected += probs[kv * 2 + g][q][k].item<double>() / 2;
      }
      EXPECT_NEAR(acc[kv][k], expected, 1e-6);
    }
  }
}

TEST(MergeAnalysis, SpreadOverPrompts) {
  const LayerSpread s = summarizeLayers({{0.5, 0.1}, {0.7, 0.1}, {0.6, 0.4}});
  EXPECT_NEAR(s.mean[0], 0.6, 1e-12);
  EXPECT_NEAR(s.stddev[0], std::sqrt(2.0 / 300), 1e-12);
  EXPECT_NEAR(s.min[1], 0.1, 1e-12);
  EXPECT_NEAR(s.max[1], 0.4, 1e-12);
  EXPECT_THROW(summarizeLayers({{0.5}, {0.5, 0.2}}), std::exception);
}

}  // namespace
}  // namespace kvs::test
