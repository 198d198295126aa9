// A kept prefill on stories260K: variants decoded from it match variants run from scratch, the
// merging layout drawn from it matches what the KVMerger policy plans, and the similarity
// matrices it hands out are what they claim to be.

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/merging_layout.h"
#include "analysis/similarity_view.h"
#include "compress/compression_policy.h"
#include "session/comparison.h"
#include "session/prefill_state.h"
#include "session/variant.h"
#include "stories_fixture.h"
#include "util/error.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class KeptPrefill : public Stories {};

TEST_F(KeptPrefill, VariantsFromAKeptPrefillMatchVariantsRunFromScratch) {
  const GenerationRequest r = greedyRequest(tokenizer(), 160);
  const PrefillState state = prefillPrompt(model(), r.promptIds);
  for (const CompressionParams& p : {CompressionParams{}, kvmerger(0.5), kvmerger(0.35)}) {
    const DecodeResult scratch = runVariant(model(), r, p);
    const DecodeResult kept = runVariantFromState(model(), state, r, p);
    EXPECT_EQ(kept.generatedIds, scratch.generatedIds) << p.method;
    EXPECT_EQ(kept.compression.slots, scratch.compression.slots);
    EXPECT_EQ(kept.compression.bytes, scratch.compression.bytes);
    EXPECT_EQ(kept.bytesPerStep.size(), kept.generatedIds.size());
  }
}

// The app's Compare starts from the kept prefill; it must measure exactly what the CLI's compare,
// which runs the prompt itself, measures (also for a variant with another GQA reduction).
TEST_F(KeptPrefill, CompareFromAKeptPrefillEqualsCompareFromScratch) {
  const GenerationRequest r = greedyRequest(tokenizer(), 140);
  const PrefillState state = prefillPrompt(model(), r.promptIds);
  CompressionParams h2oSum;
  h2oSum.method = "h2o";
  h2oSum.budget = 0.5;
  h2oSum.gqaReduction = GqaReduction::kMax;
  const std::vector<CompressionParams> variants = {kvmerger(0.5), kvmerger(0.35), h2oSum};
  const auto scratch = compareVariants(model(), r.promptIds, r.steps, variants);
  const auto kept = compareVariants(model(), state, r.steps, variants);
  ASSERT_EQ(kept.size(), scratch.size());
  for (size_t v = 0; v < kept.size(); ++v) {
    EXPECT_EQ(kept[v].generatedIds, scratch[v].generatedIds) << "variant " << v;
    EXPECT_DOUBLE_EQ(kept[v].meanKl, scratch[v].meanKl) << "variant " << v;
    EXPECT_DOUBLE_EQ(kept[v].maxKl, scratch[v].maxKl);
    EXPECT_DOUBLE_EQ(kept[v].nll, scratch[v].nll);
    EXPECT_DOUBLE_EQ(kept[v].top1Agreement, scratch[v].top1Agreement);
    EXPECT_EQ(kept[v].kvBytes, scratch[v].kvBytes);
  }
  EXPECT_GT(kept[2].meanKl, 0.0) << "a lossy variant: the comparison must be able to differ";
}

TEST_F(KeptPrefill, KeptPrefillIsNotChangedByTheVariantsDecodedFromIt) {
  const GenerationRequest r = greedyRequest(tokenizer(), 120);
  const PrefillState state = prefillPrompt(model(), r.promptIds);
  const auto first = runVariantFromState(model(), state, r, kvmerger(0.5)).generatedIds;
  runVariantFromState(model(), state, r, kvmerger(0.35));
  EXPECT_EQ(state.cache().slotCount(0, 0), state.tokens());
  EXPECT_EQ(runVariantFromState(model(), state, r, kvmerger(0.5)).generatedIds, first);
}

TEST_F(KeptPrefill, PrefillAndCompressionCancel) {
  const GenerationRequest r = greedyRequest(tokenizer(), 120);
  int layers = 0;
  EXPECT_THROW(prefillPrompt(model(), r.promptIds, [&] { return ++layers < 2; }), KvsError);
  EXPECT_EQ(layers, 2);
  const PrefillState state = prefillPrompt(model(), r.promptIds);
  DecodeHooks refuse;
  refuse.keepGoing = [] { return false; };
  EXPECT_THROW(runVariantFromState(model(), state, r, kvmerger(0.5), refuse), KvsError);
  int tokens = 0;
  const auto stopped =
      runVariantFromState(model(), state, r, kvmerger(0.5), {[&](int) { return ++tokens < 3; }});
  EXPECT_EQ(stopped.generatedIds.size(), 3u);
  EXPECT_EQ(stopped.stopReason, StopReason::kCancelled);
}

// The layout duplicates the policy's set search on kept cosines; this guards the duplication.
TEST_F(KeptPrefill, MergingLayoutMatchesTheKVMergerPlan) {
  const PrefillState state = prefillPrompt(model(), greedyRequest(tokenizer(), 120).promptIds);
  for (bool exact : {true, false}) {
    for (MergeLayout shape : {MergeLayout::kPerHead, MergeLayout::kSharedPerLayer}) {
      CompressionParams p = kvmerger(0.5);
      p.exactBudget = exact;
      p.layout = shape;
      p.eps = 0.6;
      const MergingLayout layout = computeMergingLayout(state, p);
      ASSERT_TRUE(layout.error.empty()) << layout.error;
      const CompressionPlan plan = makePolicy(p)->plan(state.cache(p.gqaReduction));
      for (size_t l = 0; l < plan.layers.size(); ++l) {
        for (size_t h = 0; h < plan.layers[l].size(); ++h) {
          const auto& want = plan.layers[l][h].slots;
          const auto& got = layout.heads[l][h].slots;
          ASSERT_EQ(got.size(), want.size()) << "layer " << l << " head " << h;
          for (size_t s = 0; s < want.size(); ++s) {
            EXPECT_EQ(got[s].first, want[s].first);
            EXPECT_EQ(got[s].last, want[s].last);
            EXPECT_EQ(got[s].pivot, want[s].pivot);
            EXPECT_EQ(got[s].count, want[s].count);
          }
        }
      }
    }
  }
}

TEST_F(KeptPrefill, LowerEpsMergesMoreAndBadSettingsReportErrors) {
  const PrefillState state = prefillPrompt(model(), greedyRequest(tokenizer(), 120).promptIds);
  CompressionParams p = kvmerger(0.5);
  p.exactBudget = false;
  int previous = -1;
  for (double eps : {0.95, 0.8, 0.6, 0.3}) {
    p.eps = eps;
    const MergingLayout layout = computeMergingLayout(state, p);
    ASSERT_TRUE(layout.error.empty());
    const int slots = static_cast<int>(layout.heads[2][1].slots.size());
    if (previous >= 0) EXPECT_LE(slots, previous) << "eps " << eps;
    previous = slots;
  }
  EXPECT_LT(previous, state.tokens());
  p.budget = 0.05;  // smaller than the recent + protected tokens
  p.exactBudget = true;
  EXPECT_FALSE(computeMergingLayout(state, p).error.empty());
  CompressionParams h2o;
  h2o.method = "h2o";
  const MergingLayout evicted = computeMergingLayout(state, h2o);
  EXPECT_EQ(evicted.heads[0][0].slots.size(), size_t(h2o.targetSlots(state.tokens())));
}

TEST_F(KeptPrefill, SimilarityMatricesAreCosinesAndAttention) {
  const PrefillState state = prefillPrompt(model(), greedyRequest(tokenizer(), 120).promptIds);
  const int T = state.tokens();
  for (auto source :
       {SimilaritySource::kKeys, SimilaritySource::kKeysPreRope, SimilaritySource::kValues}) {
    const SimilarityMatrix m = similarityMatrix(state, source, 1, 2);
    ASSERT_EQ(m.values.size(), size_t(T) * T);
    for (int i = 0; i < T; i += 7) {
      EXPECT_NEAR(m.values[i * T + i], 1.0f, 1e-5);
      EXPECT_NEAR(m.values[i * T + (T - 1 - i)], m.values[(T - 1 - i) * T + i], 1e-5);
    }
  }
  // Adjacent cosines the layout uses are the matrix's first off-diagonal.
  const SimilarityMatrix k = similarityMatrix(state, SimilaritySource::kKeys, 3, 1);
  for (int i = 0; i + 1 < T; i += 5) {
    EXPECT_NEAR(state.adjacentCos[3][1][i], k.values[i * T + i + 1], 1e-5);
  }
  // Attention rows are causal softmax distributions; the mean is the mean of the heads.
  const SimilarityMatrix a = similarityMatrix(state, SimilaritySource::kAttention, 0, 5);
  for (int i = 0; i < T; i += 9) {
    double sum = 0;
    for (int j = 0; j < T; ++j) sum += a.values[i * T + j];
    EXPECT_NEAR(sum, 1.0, 1e-4);
    if (i + 1 < T) EXPECT_EQ(a.values[i * T + i + 1], 0.0f);
  }
  const SimilarityMatrix mean = similarityMatrix(state, SimilaritySource::kValues, 2, -1);
  double expected = 0;
  for (int h = 0; h < model().config().nKvHeads; ++h) {
    expected += similarityMatrix(state, SimilaritySource::kValues, 2, h).values[3 * T + 10];
  }
  EXPECT_NEAR(mean.values[3 * T + 10], expected / model().config().nKvHeads, 1e-5);
  const SimilarityMatrix thumb = similarityThumbnail(state, SimilaritySource::kKeys, 3, 1, 16);
  EXPECT_EQ(thumb.tokens, 16);
  EXPECT_THROW(similarityMatrix(state, SimilaritySource::kKeys, 9, 0), KvsError);
}

}  // namespace
}  // namespace kvs::test
