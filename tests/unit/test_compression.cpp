// Compression policies on hand-made caches: the sanity properties of kvmerger-spec.md section 3,
// budgets, and H2O / CaM / StreamingLLM against naive references written here.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "compress/merging_sets.h"
#include "compression_fixture.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

using test::camParams;
using test::compressionConfig;
using test::CompressionFixture;
using test::kvmerger;
using test::smoothKeys;

TEST(MergingSets, ScanFollowsTheSpec) {
  // c[i] > 0.75 merges i into i+1's set unless either is protected.
  const std::vector<float> cos = {0.9f, 0.8f, 0.2f, 0.95f, 0.99f, 0.9f};
  std::vector<char> prot = {0, 0, 0, 0, 0, 1, 1};  // last two recent
  const auto sets = identifyMergingSets(cos, prot, 0.75);
  ASSERT_EQ(sets.size(), 4u);  // {0,1,2} {3,4} {5} {6}
  EXPECT_EQ(sets[0].first, 0);
  EXPECT_EQ(sets[0].last, 2);
  EXPECT_EQ(sets[1].first, 3);
  EXPECT_EQ(sets[1].last, 4);
  EXPECT_EQ(sets[2].size(), 1);
  // eps above 1 merges nothing
  EXPECT_EQ(identifyMergingSets(cos, prot, 1.0001).size(), 7u);
}

TEST(MergingSets, IdenticalKeysGiveThatKeyAndUniformWeights) {
  const at::Tensor keys = at::tensor({1.0f, 2.0f, 3.0f}).repeat({5, 1});  // [5, 3]
  const std::vector<double> attention = {0.1, 0.5, 0.2, 0.5, 0.0};
  for (SigmaMode mode : {SigmaMode::kFixed, SigmaMode::kMeanDistance, SigmaMode::kLiteral}) {
    const GaussianMerge m = gaussianMerge(keys, attention, {0, 4}, 5.0, mode);
    EXPECT_EQ(m.pivot, 1);  // largest attention, lowest index on ties
    for (float w : m.weights) EXPECT_NEAR(w, 0.2f, 1e-6);
  }
}

TEST(MergingSets, WeightsSumToOneWithThePivotLargest) {
  at::manual_seed(3);
  const at::Tensor keys = at::randn({6, 8});
  const std::vector<double> attention = {0.1, 0.2, 0.9, 0.3, 0.1, 0.0};
  for (SigmaMode mode : {SigmaMode::kFixed, SigmaMode::kMeanDistance, SigmaMode::kLiteral}) {
    const GaussianMerge m = gaussianMerge(keys, attention, {0, 5}, 2.0, mode);
    EXPECT_EQ(m.pivot, 2);
    EXPECT_NEAR(std::accumulate(m.weights.begin(), m.weights.end(), 0.0), 1.0, 1e-6);
    EXPECT_EQ(std::max_element(m.weights.begin(), m.weights.end()) - m.weights.begin(), 2);
    EXPECT_GT(m.sigma, 0);
  }
  // Literal mode can never exceed 1/sqrt(2), the paper's printed formula's bound.
  EXPECT_LE(gaussianMerge(keys, attention, {0, 5}, 2.0, SigmaMode::kLiteral).sigma, 0.7072);
}

TEST(KVMerger, EpsAboveOneLeavesTheCacheUnchanged) {
  const ModelConfig c = compressionConfig(40);
  const at::Tensor K = smoothKeys(2, 2, 40, 4, 1), V = at::randn({2, 2, 40, 4});
  CompressionFixture f(c, K, V, at::rand({2, 2, 40}));
  CompressionParams p = kvmerger(0.5);
  p.exactBudget = false;
  p.eps = 1.0001;
  f.compress(p);
  for (int l = 0; l < 2; ++l) {
    EXPECT_TRUE(at::equal(f.cache.keys(l), K[l]));
    EXPECT_TRUE(at::equal(f.cache.values(l), V[l]));
  }
}

TEST(KVMerger, SizeIsRecentPlusProtectedPlusSetsInTokenOrder) {
  const int T = 100;
  const ModelConfig c = compressionConfig(T);
  const at::Tensor K = smoothKeys(2, 2, T, 4, 2), V = at::randn({2, 2, T, 4}),
                   A = at::rand({2, 2, T});
  CompressionFixture f(c, K, V, A);
  CompressionParams p = kvmerger(0.5);
  p.exactBudget = false;
  p.eps = 0.9;
  f.compress(p);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      // naive: protection and sets recomputed here from the definitions
      const int R = 17, H = 12;  // round(0.17 * 100), round(0.12 * 100)
      std::vector<int> order(T - R);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int a, int b) {
        return A[l][h][a].item<double>() > A[l][h][b].item<double>();
      });
      std::vector<char> prot(T, 0);
      for (int i = T - R; i < T; ++i) prot[i] = 1;
      for (int i = 0; i < H; ++i) prot[order[i]] = 1;
      const at::Tensor k = K[l][h];
      const at::Tensor cos = at::cosine_similarity(k.narrow(0, 0, T - 1), k.narrow(0, 1, T - 1), 1);
      int sets = 0;
      for (int i = T - R - 1; i >= 0; --i) {
        const bool joins = i < T - R - 1 && !prot[i] && !prot[i + 1] && cos[i].item<float>() > 0.9f;
        if (!joins && !prot[i]) ++sets;
      }
      EXPECT_EQ(f.cache.slotCount(l, h), R + H + sets) << "layer " << l << " head " << h;
      const auto& slots = f.cache.cells(l, h);
      for (size_t s = 1; s < slots.size(); ++s) EXPECT_EQ(slots[s].first, slots[s - 1].last + 1);
      EXPECT_EQ(slots.front().first, 0);
      EXPECT_EQ(slots.back().last, T - 1);
      int count = 0;
      for (const Slot& s : slots) count += s.count;
      EXPECT_EQ(count, T);
    }
  }
}

TEST(KVMerger, MergedSlotIsTheGaussianMixOfItsMembers) {
  const int T = 30;
  const ModelConfig c = compressionConfig(T, 1, 4);
  const at::Tensor K = smoothKeys(2, 1, T, 4, 4), V = at::randn({2, 1, T, 4}),
                   A = at::rand({2, 1, T});
  CompressionFixture f(c, K, V, A);
  CompressionParams p = kvmerger(0.5);
  p.sigma = 0.7;
  f.compress(p);
  const auto& slots = f.cache.cells(0, 0);
  for (size_t s = 0; s < slots.size(); ++s) {
    if (slots[s].count == 1) continue;
    std::vector<double> a;
    for (int t = 0; t < T; ++t) a.push_back(A[0][0][t].item<double>());
    const GaussianMerge m =
        gaussianMerge(K[0][0], a, {slots[s].first, slots[s].last}, 0.7, SigmaMode::kFixed);
    at::Tensor key = at::zeros({4}), value = at::zeros({4});
    for (int j = slots[s].first; j <= slots[s].last; ++j) {
      key += m.weights[j - slots[s].first] * K[0][0][j];
      value += slots[s].count * m.weights[j - slots[s].first] * V[0][0][j];
    }
    EXPECT_TRUE(at::allclose(f.cache.keys(0)[0][s], key, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(f.cache.values(0)[0][s], value, 1e-5, 1e-6));
    EXPECT_EQ(slots[s].pivot, m.pivot);
    return;
  }
  FAIL() << "no merged slot to check";
}

class EveryPolicy : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPolicy, MeetsItsBudgetExactlyAndFreesMemory) {
  const int T = 120;
  const ModelConfig c = compressionConfig(T);
  for (double budget : {0.5, 0.35}) {
    CompressionFixture f(c, smoothKeys(2, 2, T, 4, 5), at::randn({2, 2, T, 4}),
                         at::rand({2, 2, T}));
    const int64_t fullBytes = f.cache.memory().allocated;
    CompressionParams p;
    p.method = GetParam();
    p.budget = budget;
    f.compress(p);
    const int target = static_cast<int>(std::lround(budget * T));
    for (int l = 0; l < 2; ++l) {
      for (int h = 0; h < 2; ++h) {
        EXPECT_LE(f.cache.slotCount(l, h), target);
        EXPECT_GE(f.cache.slotCount(l, h), target - 2) << "exact budget should come close";
      }
    }
    EXPECT_LT(f.cache.memory().allocated, fullBytes);
    EXPECT_LE(f.cache.memory().allocated, fullBytes * (budget + 0.02));
  }
  // absolute budgets
  CompressionFixture f(c, smoothKeys(2, 2, T, 4, 6), at::randn({2, 2, T, 4}), at::rand({2, 2, T}));
  CompressionParams p;
  p.method = GetParam();
  p.budgetTokens = 40;
  p.recentRatio = 0.1;
  p.protectedRatio = 0.05;
  f.compress(p);
  EXPECT_LE(f.cache.slotCount(1, 1), 40);
}

INSTANTIATE_TEST_SUITE_P(Methods, EveryPolicy,
                         ::testing::Values("streaming", "h2o", "cam", "kvmerger"),
                         [](const auto& info) { return info.param; });

TEST(H2O, KeepsRecentAndHeaviestPerHead) {
  const int T = 12;
  const ModelConfig c = compressionConfig(T);
  at::Tensor A = at::zeros({2, 2, T});
  A[0][0][1] = 5, A[0][0][3] = 4, A[0][0][8] = 3;  // heavy hitters of head 0
  A[0][1][0] = 5, A[0][1][2] = 4, A[0][1][5] = 3;  // other ones of head 1
  CompressionFixture f(c, at::randn({2, 2, T, 4}), at::randn({2, 2, T, 4}), A);
  CompressionParams p;
  p.method = "h2o";
  p.budgetTokens = 6;  // 3 recent + 3 heavy
  f.compress(p);
  auto positions = [&](int h) {
    std::vector<int> out;
    for (const Slot& s : f.cache.cells(0, h)) out.push_back(s.first);
    return out;
  };
  EXPECT_EQ(positions(0), (std::vector<int>{1, 3, 8, 9, 10, 11}));
  EXPECT_EQ(positions(1), (std::vector<int>{0, 2, 5, 9, 10, 11}));
}

TEST(CaM, MergesEvictedValuesLikeTheNaiveReference) {
  // Equal attention everywhere: every merge probability is A[e] / mean(A[window]) = 1, so the
  // result is deterministic and the naive sum below must match it exactly.
  const int T = 40;
  const at::Tensor V = at::randn({2, 1, T, 4});
  CompressionFixture f(compressionConfig(T, 1), smoothKeys(2, 1, T, 4, 7), V, at::ones({2, 1, T}));
  f.compress(camParams(1));
  std::vector<int> kept;
  for (const Slot& s : f.cache.cells(0, 0)) kept.push_back(s.first);
  ASSERT_EQ(kept.size(), 20u);
  at::Tensor expected = at::zeros({20, 4});
  for (size_t k = 0; k < kept.size(); ++k) expected[k] = V[0][0][kept[k]];
  for (int e = 0; e < T; ++e) {
    if (std::find(kept.begin(), kept.end(), e) != kept.end()) continue;
    const size_t next = std::upper_bound(kept.begin(), kept.end(), e) - kept.begin();
    const size_t m = std::min<size_t>(4, kept.size() - next);
    for (size_t k = next; k < next + m; ++k) expected[k] += V[0][0][e] / static_cast<double>(m);
  }
  EXPECT_TRUE(at::allclose(f.cache.values(0)[0], expected, 1e-5, 1e-6));
  // Keys of evicted tokens are dropped, not merged: kept keys are unchanged.
  const at::Tensor K = f.cache.keys(0)[0];
  for (size_t k = 0; k < kept.size(); ++k) {
    EXPECT_TRUE(at::equal(K[k], smoothKeys(2, 1, T, 4, 7)[0][0][kept[k]])) << "slot " << k;
  }
}

TEST(CaM, MergesWithTheProbabilityOfItsAttentionRatio) {
  // 40 tokens, budget 20: recent 30..39 (A = 1), heavy hitters 0..9 (A = 2). Evicted token 29 has
  // A = 0.5 and its window (kept 30..33) a mean of 1: it merges with probability 0.5. Every other
  // evicted token has A = 0 and never merges.
  const int T = 40;
  at::Tensor A = at::zeros({2, 1, T});
  A.narrow(2, 0, 10).fill_(2.0);
  A.narrow(2, 30, 10).fill_(1.0);
  A[0][0][29] = 0.5;
  A[1][0][29] = 0.5;
  const at::Tensor V = at::randn({2, 1, T, 4});
  int merged = 0;
  const int trials = 400;
  for (int seed = 0; seed < trials; ++seed) {
    CompressionFixture f(compressionConfig(T, 1), smoothKeys(2, 1, T, 4, 11), V, A);
    f.compress(camParams(seed));
    const at::Tensor slot30 = f.cache.values(0)[0][10];  // kept slot of token 30
    const bool got = at::allclose(slot30, V[0][0][30] + V[0][0][29] / 4, 1e-5, 1e-6);
    EXPECT_TRUE(got || at::allclose(slot30, V[0][0][30], 1e-5, 1e-6)) << "seed " << seed;
    merged += got;
  }
  EXPECT_NEAR(merged / double(trials), 0.5, 0.08);
}

TEST(CaM, IsReproducibleWithASeedAndDiffersWithAnother) {
  const int T = 40;
  const at::Tensor K = smoothKeys(2, 1, T, 4, 8), V = at::randn({2, 1, T, 4});
  const at::Tensor A = at::rand({2, 1, T});
  auto values = [&](uint64_t seed) {
    CompressionFixture f(compressionConfig(T, 1), K, V, A);
    f.compress(camParams(seed));
    return f.cache.values(0).clone();
  };
  EXPECT_TRUE(at::equal(values(11), values(11)));
  EXPECT_FALSE(at::equal(values(11), values(12)));
}

TEST(KVMerger, AbsoluteBudgetUsesTheDefaultsOfTheBudgetItMeans) {
  const int T = 32;
  CompressionFixture f(compressionConfig(T), smoothKeys(2, 2, T, 4, 10), at::randn({2, 2, T, 4}),
                       at::rand({2, 2, T}));
  CompressionParams p = kvmerger(0.5);
  p.budgetTokens = 8;  // 25%: the 35% defaults (8% recent, 2% protected), not 50%'s
  EXPECT_NO_THROW(f.compress(p));
  EXPECT_LE(f.cache.slotCount(0, 0), 8);
}

TEST(KVMerger, ASlotsOnlyPlanDrawsTheSameSlotsButCannotBeApplied) {
  const int T = 48;
  CompressionFixture f(compressionConfig(T), smoothKeys(2, 2, T, 4, 5), at::randn({2, 2, T, 4}),
                       at::rand({2, 2, T}));
  CompressionParams p = kvmerger(0.5);
  const auto policy = makePolicy(p);
  const CompressionPlan full = policy->plan(f.cache);
  policy->planSlotsOnly(true);
  const CompressionPlan drawn = policy->plan(f.cache);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      const HeadPlan &a = full.layers[l][h], &b = drawn.layers[l][h];
      ASSERT_EQ(a.size(), b.size());
      for (int s = 0; s < a.size(); ++s) {
        EXPECT_EQ(a.slots[s].first, b.slots[s].first);
        EXPECT_EQ(a.slots[s].pivot, b.slots[s].pivot);
        EXPECT_EQ(a.slots[s].count, b.slots[s].count);
      }
      EXPECT_EQ(a.isProtected, b.isProtected);
    }
  }
  EXPECT_THROW(applyPlan(drawn, f.cache), KvsError);
}

TEST(Streaming, KeepsSinksAndRecentTokens) {
  const int T = 20;
  CompressionFixture f(compressionConfig(T), at::randn({2, 2, T, 4}), at::randn({2, 2, T, 4}),
                       at::rand({2, 2, T}));
  CompressionParams p;
  p.method = "streaming";
  p.budgetTokens = 8;
  f.compress(p);
  std::vector<int> positions;
  for (const Slot& s : f.cache.cells(1, 0)) positions.push_back(s.first);
  EXPECT_EQ(positions, (std::vector<int>{0, 1, 2, 3, 16, 17, 18, 19}));
}

TEST(CompressionParams, BadValuesNameTheParameter) {
  auto message = [](auto mutate) {
    CompressionParams p = kvmerger(0.5);
    mutate(p);
    try {
      p.validate();
    } catch (const KvsError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message([](auto& p) { p.budget = 0; }).find("budget must be in (0, 1]"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.budget = 1.5; }).find("budget"), std::string::npos);
  EXPECT_NE(message([](auto& p) { p.sigma = -1; }).find("sigma must be > 0"), std::string::npos);
  EXPECT_NE(message([](auto& p) { p.eps = 1.5; }).find("eps must be in [-1, 1.0001]"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) {
              p.budget = 0.2;
              p.recentRatio = 0.17;
              p.protectedRatio = 0.12;
            }).find("smaller than the recent + protected"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.logBias = true; }).find("--no-value-scaling"),
            std::string::npos);
  EXPECT_EQ(message([](auto& p) {
              p.logBias = true;
              p.scaleValues = false;
            }),
            "(no error)");
  CompressionParams skipping = kvmerger(0.5);
  skipping.skipLayers = {0, 5};
  EXPECT_NO_THROW(skipping.validateForModel(6));
  try {
    skipping.validateForModel(5);
    ADD_FAILURE() << "layer 5 of a 5-layer model accepted";
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("the model has 5 layers (0 to 4)"), std::string::npos);
  }
  EXPECT_THROW(methodNamed("lz77"), KvsError);
  EXPECT_NE(std::string([] {
              try {
                methodNamed("lz77");
              } catch (const KvsError& e) {
                return e.what();
              }
              return "";
            }())
                .find("full, streaming, h2o, cam, kvmerger, snapkv"),
            std::string::npos);
}

}  // namespace
}  // namespace kvs
