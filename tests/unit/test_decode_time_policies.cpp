// Policies called again at every decode step, as --decode-compression does: their random
// choices must be fresh at each step, not replayed.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "compression_fixture.h"

namespace kvs {
namespace {

using test::camParams;
using test::compressionConfig;
using test::CompressionFixture;
using test::smoothKeys;

TEST(DecodeTimePolicies, DrawsIndependentlyAtEveryDecodeStep) {
  // Compression after every decode step, as --decode-compression with chunk 1 does: 8 slots per
  // head (4 heavy hitters with A = 10, 4 recent with A = 1); each step appends a token, and the
  // one leaving the recent window gets A = 0.3, so it is the one evicted, with merge probability
  // 0.3 / mean(A of the 4 recent after it) = 0.3. A draw that repeats across steps merges
  // always or never.
  const int first = 8, steps = 400;
  const ModelConfig c = compressionConfig(first + steps, 1);
  at::Tensor A = at::ones({2, 1, first});
  A.narrow(2, 0, 4).fill_(10.0);
  CompressionFixture f(c, smoothKeys(2, 1, first, 4, 12), at::randn({2, 1, first, 4}), A);
  CompressionParams p = camParams(3);
  p.budgetTokens = 8;
  p.fixedRecent = 4;
  p.fixedProtected = 4;
  const auto policy = makePolicy(p);
  int merged = 0, evicted = 0;
  for (int step = 0; step < steps; ++step) {
    f.cache.beginAppend(1);
    for (int l = 0; l < 2; ++l) f.cache.write(l, at::randn({1, 1, 4}), at::randn({1, 1, 4}));
    f.cache.commit();
    for (int l = 0; l < 2; ++l) {
      ASSERT_EQ(f.cache.slotCount(l, 0), 9);
      at::Tensor attention = at::full({1, 9}, 1.0, at::kDouble);
      for (int i = 0; i < 4; ++i) attention[0][i] = f.cache.cells(l, 0)[i].attention;
      attention[0][4] = 0.3;
      f.cache.setAttention(l, attention);
      const std::vector<HeadPlan> plan = policy->planLayer(f.cache, l);
      ASSERT_EQ(plan[0].size(), 8);
      ++evicted;
      for (size_t e = 0; e < plan[0].source.size(); ++e) {
        if (plan[0].source[e] == 4) merged += plan[0].keyWeight[e] == 0.0f ? 1 : 0;
      }
      applyLayerPlan(plan, l, f.cache);
    }
  }
  // 800 evictions: a standard deviation of 0.016 around 0.3.
  EXPECT_NEAR(merged / (4.0 * evicted), 0.3, 0.06) << merged << " merge entries";
}

}  // namespace
}  // namespace kvs
