// RoPE in both pairings against a naive reference written here from the definition.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "model/rope.h"

namespace kvs {
namespace {

// x: [T, H, D]; rotates pairs (a, b) of each head by pos * theta^(-2i/D), in double.
at::Tensor naiveRope(const at::Tensor& x, int start, float theta, RopeStyle style) {
  at::Tensor out = x.to(at::kDouble).clone();
  auto a = out.accessor<double, 3>();
  const int64_t T = x.size(0), H = x.size(1), D = x.size(2);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < D / 2; ++i) {
        const int64_t p = style == RopeStyle::kAdjacentPairs ? 2 * i : i;
        const int64_t q = style == RopeStyle::kAdjacentPairs ? 2 * i + 1 : i + D / 2;
        const double angle = (start + t) * std::pow(double(theta), -2.0 * i / D);
        const double u = a[t][h][p], v = a[t][h][q];
        a[t][h][p] = u * std::cos(angle) - v * std::sin(angle);
        a[t][h][q] = u * std::sin(angle) + v * std::cos(angle);
      }
    }
  }
  return out.to(at::kFloat);
}

TEST(Rope, AdjacentPairsMatchNaiveReference) {
  at::manual_seed(1);
  const at::Tensor x = at::randn({7, 3, 8});
  const RotaryEmbedding rope(8, 64, 10000.0f, RopeStyle::kAdjacentPairs);
  EXPECT_TRUE(at::allclose(rope.apply(x, 5), naiveRope(x, 5, 10000.0f, RopeStyle::kAdjacentPairs),
                           1e-5, 1e-5));
}

TEST(Rope, HalfSplitMatchesNaiveReferenceWithOtherTheta) {
  at::manual_seed(2);
  const at::Tensor x = at::randn({5, 2, 16});
  const RotaryEmbedding rope(16, 64, 500000.0f, RopeStyle::kHalfSplit);
  EXPECT_TRUE(at::allclose(rope.apply(x, 11), naiveRope(x, 11, 500000.0f, RopeStyle::kHalfSplit),
                           1e-5, 1e-5));
}

TEST(Rope, PositionZeroIsIdentityAndNormsArePreserved) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({4, 2, 8});
  const RotaryEmbedding rope(8, 64, 10000.0f, RopeStyle::kAdjacentPairs);
  EXPECT_TRUE(at::allclose(rope.apply(x.narrow(0, 0, 1), 0), x.narrow(0, 0, 1)));
  EXPECT_TRUE(at::allclose(rope.apply(x, 9).norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
}

TEST(Rope, PermutedWeightsWithHalfSplitEqualAdjacentPairsUpToThePermutation) {
  // A projection [H*D, C] in Meta layout, and the same rows permuted as Hugging Face stores them.
  at::manual_seed(4);
  const int H = 3, D = 8, C = 12;
  const at::Tensor w = at::randn({H * D, C}), h = at::randn({6, C});
  const at::Tensor wHf = permuteForHalfSplit(w, H);
  EXPECT_TRUE(at::equal(permuteForAdjacentPairs(wHf, H), w));

  const RotaryEmbedding meta(D, 64, 10000.0f, RopeStyle::kAdjacentPairs);
  const RotaryEmbedding hf(D, 64, 10000.0f, RopeStyle::kHalfSplit);
  const at::Tensor kMeta = meta.apply(at::linear(h, w).view({6, H, D}), 3);
  const at::Tensor kHf = hf.apply(at::linear(h, wHf).view({6, H, D}), 3);
  // Same rotated keys, in each format's own dimension order.
  // Each head vector of kHf back to Meta order: its D entries are permuted like the rows of a
  // one-head projection.
  const at::Tensor kHfAsMeta =
      permuteForAdjacentPairs(kHf.reshape({6 * H, D}).t().contiguous(), 1).t().reshape({6, H, D});
  EXPECT_TRUE(at::allclose(kHfAsMeta, kMeta, 1e-5, 1e-5));
  // Attention scores do not depend on the dimension order.
  EXPECT_TRUE(at::allclose(at::matmul(kHf.flatten(1), kHf.flatten(1).t()),
                           at::matmul(kMeta.flatten(1), kMeta.flatten(1).t()), 1e-4, 1e-4));
}

}  // namespace
}  // namespace kvs
