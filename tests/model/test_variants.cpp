// Variants on stories260K: settings that must not change anything do not, and every method runs
// through prefill -> compress -> decode with memory actually freed.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "cache/kv_cache.h"
#include "model/layer_observer.h"
#include "session/comparison.h"
#include "session/variant.h"
#include "stories_fixture.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class Variants : public Stories {};

TEST_F(Variants, KVMergerWithEpsAboveOneGeneratesExactlyTheFullCacheText) {
  const GenerationRequest request = greedyRequest(tokenizer(), 150);
  const DecodeResult full = runVariant(model(), request, CompressionParams{});
  CompressionParams p;
  p.method = "kvmerger";
  p.exactBudget = false;
  p.eps = 1.0001;
  const DecodeResult merged = runVariant(model(), request, p);
  EXPECT_EQ(merged.generatedIds, full.generatedIds);
  EXPECT_EQ(merged.compression.achievedRatio, 1.0);
  EXPECT_EQ(merged.compression.bytes, full.compression.bytes);
}

TEST_F(Variants, H2OWithTheWholeBudgetGeneratesExactlyTheFullCacheText) {
  const GenerationRequest request = greedyRequest(tokenizer(), 120);
  CompressionParams p;
  p.method = "h2o";
  p.budget = 1.0;
  EXPECT_EQ(runVariant(model(), request, p).generatedIds,
            runVariant(model(), request, CompressionParams{}).generatedIds);
}

class VariantMethods : public Stories, public ::testing::WithParamInterface<std::string> {};

TEST_P(VariantMethods, HalvesTheCacheAndKeepsGenerating) {
  const GenerationRequest request = greedyRequest(tokenizer(), 150);
  const int T = static_cast<int>(request.promptIds.size());
  CompressionParams p;
  p.method = GetParam();
  p.budget = 0.5;
  const DecodeResult r = runVariant(model(), request, p);
  EXPECT_EQ(r.generatedIds.size(), static_cast<size_t>(150 - T + 1));
  EXPECT_NEAR(r.compression.achievedRatio, 0.5, 0.03);
  EXPECT_LE(r.compression.bytes, r.compression.fullBytes * 0.52);
  EXPECT_EQ(r.compression.fullBytes, model().config().kvBytesPerToken() * T);
  for (const auto& layer : r.compression.slots) {
    for (int s : layer) EXPECT_LE(s, (T + 1) / 2);
  }
  // After decoding, every head holds its compressed slots plus the decoded tokens.
  EXPECT_EQ(r.cells.head(0, 0).size(), r.compression.slots[0][0] + (150 - T));
  EXPECT_GT(r.cells.head(0, 0).back().attention, 0.0);
}

INSTANTIATE_TEST_SUITE_P(All, VariantMethods,
                         ::testing::Values("streaming", "h2o", "cam", "kvmerger"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kvs::test

namespace kvs::test {
namespace {

TEST_F(Variants, CompareGivesZeroDivergenceForLosslessVariantsAndMoreForSmallerBudgets) {
  const GenerationRequest request = greedyRequest(tokenizer(), 140);
  CompressionParams lossless;
  lossless.method = "kvmerger";
  lossless.exactBudget = false;
  lossless.eps = 1.0001;
  CompressionParams half, third;
  half.method = third.method = "h2o";
  half.budget = 0.5;
  third.budget = 0.2;
  int calls = 0;
  const auto out = compareVariants(model(), request.promptIds, 140, {lossless, half, third},
                                   [&](int done, int total) {
                                     EXPECT_EQ(total, 3);
                                     EXPECT_EQ(done, ++calls);
                                     return true;
                                   });
  ASSERT_EQ(out.size(), 4u);  // full first
  EXPECT_EQ(out[0].meanKl, 0.0);
  EXPECT_NEAR(out[1].meanKl, 0.0, 1e-9);
  EXPECT_EQ(out[1].top1Agreement, 1.0);
  EXPECT_NEAR(out[1].nll, out[0].nll, 1e-9);
  EXPECT_EQ(out[1].generatedIds, out[0].generatedIds);
  EXPECT_GT(out[3].meanKl, out[2].meanKl);  // 20% loses more than 50%
  EXPECT_GE(out[3].maxKl, out[3].meanKl);
  EXPECT_LT(out[3].kvBytes, out[2].kvBytes);
  // The full run's greedy continuation, generated independently, is the reference.
  EXPECT_EQ(generate(model(), request).generatedIds, out[0].generatedIds);
}

}  // namespace
}  // namespace kvs::test

namespace kvs::test {
namespace {

class DecodeCompression : public Stories, public ::testing::WithParamInterface<std::string> {};

TEST_P(DecodeCompression, KeepsTheCacheAtItsCompressedSizeWhileDecoding) {
  const GenerationRequest request = greedyRequest(tokenizer(), 200);
  const int T = static_cast<int>(request.promptIds.size());
  CompressionParams p;
  p.method = GetParam();
  p.budget = 0.5;
  p.decodeCompression = true;
  p.decodeChunk = GetParam() == "kvmerger" ? 8 : 1;
  const DecodeResult r = runVariant(model(), request, p);
  const int target = (T + 1) / 2;
  EXPECT_EQ(r.generatedIds.size(), static_cast<size_t>(200 - T + 1));
  for (const auto& layer : r.cells.slots) {
    for (const auto& head : layer) {
      EXPECT_LE(static_cast<int>(head.size()), target + p.decodeChunk - 1);
      EXPECT_EQ(head.back().last, 199);  // the newest position (steps - 1) is always kept
      int covered = 0;
      for (const Slot& s : head) covered += s.count;
      if (GetParam() == "kvmerger") EXPECT_EQ(covered, 200);  // merging loses no token
    }
  }
  // Without it the cache grows with every decoded token.
  p.decodeCompression = false;
  const DecodeResult grown = runVariant(model(), request, p);
  EXPECT_GT(grown.memory.allocated, r.memory.allocated);
}

INSTANTIATE_TEST_SUITE_P(Methods, DecodeCompression,
                         ::testing::Values("streaming", "h2o", "kvmerger"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kvs::test

namespace kvs::test {
namespace {

TEST_F(Variants, CompareDecodesLikeGenerateWithDecodeCompression) {
  const GenerationRequest request = greedyRequest(tokenizer(), 160);
  for (const std::string& method : {"h2o", "kvmerger"}) {
    CompressionParams p;
    p.method = method;
    p.budget = 0.5;
    p.decodeCompression = true;
    p.decodeChunk = method == "kvmerger" ? 16 : 1;
    const auto outcomes = compareVariants(model(), request.promptIds, 160, {p});
    EXPECT_EQ(outcomes[1].generatedIds, runVariant(model(), request, p).generatedIds) << method;
    EXPECT_LT(outcomes[1].meanKl, 0.5) << method;
  }
}

TEST_F(Variants, DecodeCompressionWithSkippedLayersAndALargeChunkStaysWithinBounds) {
  const GenerationRequest request = greedyRequest(tokenizer(), 200);
  const int T = static_cast<int>(request.promptIds.size());
  CompressionParams p;
  p.method = "kvmerger";
  p.budget = 0.5;
  p.skipLayers = {0};
  p.decodeCompression = true;
  p.decodeChunk = 60;  // larger than the budget
  const DecodeResult r = runVariant(model(), request, p);
  EXPECT_EQ(r.cells.head(0, 0).size(), 200u);  // the skipped layer stays full
  for (int l = 1; l < 5; ++l) {
    EXPECT_LE(static_cast<int>(r.cells.head(l, 0).size()), (T + 1) / 2 + 59) << "layer " << l;
  }
  EXPECT_LE(r.memory.used, r.memory.allocated);
}

}  // namespace
}  // namespace kvs::test

namespace kvs::test {
namespace {

// The last key of layer 0 before and after RoPE, as the forward pass wrote it.
struct LastKey : LayerObserver {
  at::Tensor raw, rotated;  // [Hkv, D]
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    if (layer != 0) return;
    if (name == "k_prerope") raw = t.select(1, t.size(1) - 1).to(at::kDouble).clone();
    if (name == "k") rotated = t.select(1, t.size(1) - 1).to(at::kDouble).clone();
  }
};

TEST_F(Variants, StreamingWithCachePositionsRotatesTheNextTokenAfterTheLastSlot) {
  // One decode step after compressing the P-token prompt to S slots: its key is rotated at
  // position S inside the cache (the authors' rolling RoPE), or at P (its own position).
  GenerationRequest request = greedyRequest(tokenizer(), 0);
  const int P = static_cast<int>(request.promptIds.size());
  request.steps = P + 1;  // positions 0 .. P: the prompt, then one forward pass at position P
  for (const auto positions : {StreamingPositions::kOriginal, StreamingPositions::kCache}) {
    CompressionParams p;
    p.method = "streaming";
    p.budget = 0.5;
    p.positions = positions;
    LastKey key;
    DecodeHooks hooks;
    hooks.observer = &key;
    const DecodeResult r = runVariant(model(), request, p, hooks);
    const int S = r.compression.slots[0][0];
    ASSERT_LT(S, P);
    const double pos = positions == StreamingPositions::kCache ? S : P;
    const int64_t D = key.raw.size(1);
    for (int64_t i = 0; i < D / 2; ++i) {  // llama2.c's RoPE: pairs (2i, 2i+1)
      const double angle = pos * std::pow(10000.0, -2.0 * i / D);
      const double a = key.raw[0][2 * i].item<double>(), b = key.raw[0][2 * i + 1].item<double>();
      EXPECT_NEAR(key.rotated[0][2 * i].item<double>(), a * std::cos(angle) - b * std::sin(angle),
                  1e-4);
      EXPECT_NEAR(key.rotated[0][2 * i + 1].item<double>(),
                  a * std::sin(angle) + b * std::cos(angle), 1e-4);
    }
  }
}

}  // namespace
}  // namespace kvs::test
