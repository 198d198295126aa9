// Per-layer compression ratios of whole prompts on stories260K (core/analysis/layer_ratios.h):
// the kept prefill's, a fresh forward pass's and a plain recomputation from the kept attention
// matrices agree; the forward pass cancels; thresholds and prompts files read as documented.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "analysis/layer_ratios.h"
#include "session/prefill_state.h"
#include "stories_fixture.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class LayerRatios : public Stories {};

TEST_F(LayerRatios, KeptPrefillAndFreshForwardGiveTheSameLayerRatios) {
  const GenerationRequest r = greedyRequest(tokenizer(), 160);
  const PrefillState state = prefillPrompt(model(), r.promptIds);
  ASSERT_FALSE(state.attention.empty());  // small enough to keep: the plain reference below
  for (const double eps : {0.5, 0.75, 0.95}) {
    CompressionParams p = kvmerger(0.5);
    p.eps = eps;
    const MergeThresholds t = thresholdsFor(p);
    const std::vector<double> kept = keptLayerRatios(state, t);
    const std::vector<double> fresh = promptLayerRatios(model(), r.promptIds, t);
    ASSERT_EQ(kept.size(), size_t(model().config().nLayers));
    ASSERT_EQ(fresh.size(), kept.size());
    for (size_t l = 0; l < kept.size(); ++l) {
      const double plain = layerCompressionRatio(
          state.cache().keys(int(l)),
          accumulatedAttention(state.attention[l], model().config().nKvHeads), t);
      EXPECT_NEAR(kept[l], plain, 1e-12) << "layer " << l << " eps " << eps;
      EXPECT_NEAR(fresh[l], plain, 1e-12) << "layer " << l << " eps " << eps;
      // Recent and protected tokens are never merged.
      EXPECT_LE(kept[l], 1 - t.recentRatio - t.protectedRatio + 2.0 / state.tokens());
      EXPECT_GE(kept[l], 0);
    }
  }
}

TEST_F(LayerRatios, PromptLayerRatiosCancel) {
  const GenerationRequest r = greedyRequest(tokenizer(), 60);
  int layers = 0;
  EXPECT_THROW(
      promptLayerRatios(model(), r.promptIds, MergeThresholds{}, [&] { return ++layers < 2; }),
      KvsError);
  EXPECT_EQ(layers, 2);
  const std::vector<int> tooLong(model().config().seqLen + 1, 1);
  EXPECT_THROW(promptLayerRatios(model(), tooLong, MergeThresholds{}), KvsError);
}

TEST_F(LayerRatios, ThresholdsAreKVMergersWhateverTheMethod) {
  CompressionParams p;  // full cache, 50% budget
  p.eps = 0.8;
  MergeThresholds t = thresholdsFor(p);
  EXPECT_DOUBLE_EQ(t.eps, 0.8);
  EXPECT_DOUBLE_EQ(t.recentRatio, 0.17);  // the paper's defaults at 50%
  EXPECT_DOUBLE_EQ(t.protectedRatio, 0.12);
  p.budget = 0.35;
  t = thresholdsFor(p);
  EXPECT_DOUBLE_EQ(t.recentRatio, 0.08);
  EXPECT_DOUBLE_EQ(t.protectedRatio, 0.02);
  p.recentRatio = 0.3;
  p.protectedRatio = 0;
  t = thresholdsFor(p);
  EXPECT_DOUBLE_EQ(t.recentRatio, 0.3);
  EXPECT_DOUBLE_EQ(t.protectedRatio, 0);
}

TEST_F(LayerRatios, PromptsFileSkipsBlankAndCommentLines) {
  TempDir dir;
  writeFile(dir.file("p.txt"), "# a comment\n\nOnce upon a time\n  \r\nThe end\n");
  EXPECT_EQ(readPromptsFile(dir.file("p.txt")),
            (std::vector<std::string>{"Once upon a time", "The end"}));
  writeFile(dir.file("empty.txt"), "# nothing\n\n");
  EXPECT_THROW(readPromptsFile(dir.file("empty.txt")), KvsError);
  try {
    readPromptsFile(dir.file("missing.txt"));
    FAIL() << "no error for a missing file";
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos);
  }
}

}  // namespace
}  // namespace kvs::test
