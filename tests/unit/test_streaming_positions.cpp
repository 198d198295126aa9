// StreamingLLM's positions inside the cache (the authors' rolling RoPE) and CaM on the streaming
// base, as its authors' streaming code runs it, against rotations and merges computed here with
// plain loops.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "compress/compression_policy.h"
#include "compression_fixture.h"
#include "model/rope.h"
#include "util/error.h"

namespace kvs {
namespace {

using test::compressionConfig;
using test::CompressionFixture;

// RoPE in adjacent pairs (llama2.c's): (x[2i], x[2i+1]) turned by pos * theta^(-2i/D).
std::vector<double> rotated(const at::Tensor& row, double pos, double theta = 10000.0) {
  const at::Tensor x = row.to(at::kDouble).contiguous();
  const int64_t D = x.size(0);
  std::vector<double> out(D);
  for (int64_t i = 0; i < D / 2; ++i) {
    const double angle = pos * std::pow(theta, -2.0 * i / D);
    const double a = x[2 * i].item<double>(), b = x[2 * i + 1].item<double>();
    out[2 * i] = a * std::cos(angle) - b * std::sin(angle);
    out[2 * i + 1] = a * std::sin(angle) + b * std::cos(angle);
  }
  return out;
}

void expectRow(const at::Tensor& actual, const std::vector<double>& expected, const char* what) {
  for (size_t d = 0; d < expected.size(); ++d) {
    EXPECT_NEAR(actual[d].item<double>(), expected[d], 2e-5) << what << " dim " << d;
  }
}

TEST(Rope, RotateTurnsForwardAndBackByAnyDelta) {
  const RotaryEmbedding rope(8, 64, 10000.0f, RopeStyle::kAdjacentPairs);
  const at::Tensor x = at::randn({3, 2, 8});
  for (int delta : {0, 5, -5, -37}) {
    const at::Tensor r = rope.rotate(x, delta);
    for (int t = 0; t < 3; ++t) expectRow(r[t][1], rotated(x[t][1], delta), "rotate");
  }
  // Both pairings: a key rotated at p and turned by d is the key rotated at p + d, with the
  // table (rotate) and without it (rotateByDelta, what the cache uses).
  for (const RopeStyle style : {RopeStyle::kAdjacentPairs, RopeStyle::kHalfSplit}) {
    const RotaryEmbedding table(8, 64, 10000.0f, style);
    for (const auto& [p, d] : {std::pair{30, -17}, std::pair{3, 40}, std::pair{50, -50}}) {
      const at::Tensor moved = table.apply(x, p + d);
      EXPECT_TRUE(at::allclose(table.rotate(table.apply(x, p), d), moved, 1e-5, 1e-5));
      EXPECT_TRUE(
          at::allclose(rotateByDelta(table.apply(x, p), d, 10000.0f, style), moved, 1e-5, 1e-5));
    }
  }
}

// 20 tokens whose keys were rotated at their own positions; budget 8 with 4 sinks keeps 0..3 and
// 16..19, which move to slots 4..7.
struct Rotated {
  at::Tensor raw = at::randn({2, 2, 20, 4});  // [L, Hkv, T, D] before RoPE
  at::Tensor keys() const {
    at::Tensor k = at::empty_like(raw);
    for (int l = 0; l < 2; ++l) {
      for (int h = 0; h < 2; ++h) {
        for (int t = 0; t < 20; ++t) {
          const auto r = rotated(raw[l][h][t], t);
          for (int d = 0; d < 4; ++d) k[l][h][t][d] = r[d];
        }
      }
    }
    return k;
  }
};

TEST(StreamingPositions, CacheMovesKeptKeysToTheirSlotsAndTheNextTokenAfterThem) {
  const Rotated r;
  for (const auto positions : {StreamingPositions::kOriginal, StreamingPositions::kCache}) {
    CompressionFixture f(compressionConfig(20), r.keys(), at::randn({2, 2, 20, 4}),
                         at::rand({2, 2, 20}));
    CompressionParams p;
    p.method = "streaming";
    p.budgetTokens = 8;
    p.positions = positions;
    makePolicy(p)->compress(f.cache);
    const bool cache = positions == StreamingPositions::kCache;
    const int kept[] = {0, 1, 2, 3, 16, 17, 18, 19};
    for (int l = 0; l < 2; ++l) {
      for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 8; ++s) {
          expectRow(f.cache.keys(l)[h][s], rotated(r.raw[l][h][kept[s]], cache ? s : kept[s]),
                    toString(positions));
        }
      }
    }
    // The next token is rotated right after the last slot (8), or at its own position (20).
    EXPECT_EQ(f.cache.length() - f.cache.ropeShift(), cache ? 8 : 20);
  }
}

TEST(CamStreamingBase, EvictsAfterTheSinksAndMergesOnlyTheTokenBeforeTheRecentWindow) {
  // Equal attention: every merge probability is 1. Budget 8, 2 sinks, window 4: tokens 2..13 are
  // evicted; as in the authors' kv_cache_cam.py only token 13 (the one a decode step would
  // evict) adds V/4 to the values of slots 2..5 (tokens 14..17); keys turn back by 12.
  const Rotated r;
  const at::Tensor V = at::randn({2, 2, 20, 4});
  CompressionFixture f(compressionConfig(20), r.keys(), V, at::ones({2, 2, 20}));
  CompressionParams p;
  p.method = "cam";
  p.camBase = CamBase::kStreaming;
  p.budgetTokens = 8;
  p.sinkTokens = 2;
  p.camWindow = 4;
  makePolicy(p)->compress(f.cache);
  const int kept[] = {0, 1, 14, 15, 16, 17, 18, 19};
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 8; ++s) {
        std::vector<double> v(4);
        for (int d = 0; d < 4; ++d) {
          v[d] = V[l][h][kept[s]][d].item<double>();
          if (s >= 2 && s < 6) v[d] += V[l][h][13][d].item<double>() / 4;
        }
        expectRow(f.cache.values(l)[h][s], v, "value");
        expectRow(f.cache.keys(l)[h][s], rotated(r.raw[l][h][kept[s]], s), "key");
      }
    }
  }
  EXPECT_TRUE(compressesWhileDecoding(p));
  p.decodeChunk = 8;
  EXPECT_THROW(p.validate(), KvsError);
}

}  // namespace
}  // namespace kvs
