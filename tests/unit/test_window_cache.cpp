// Mistral's sliding window and the cache (issue 17): the slots no later query can see are
// dropped (compress/window_trim.h), and that changes no logit. References: a hand-written list
// of the slots a window hides, the same run with every slot kept behind the mask
// (WindowCache::kKeep), and plain loops over the kept run's cells.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cache/kv_cache.h"
#include "compress/window_trim.h"
#include "model/hf_export.h"
#include "model/llama_model.h"
#include "model/llama_weights.h"
#include "model/model_loader.h"
#include "model/sliding_window.h"
#include "session/decode.h"
#include "test_util.h"

namespace kvs {
namespace {

using test::TempDir;

constexpr int kWindow = 8;
constexpr int kSteps = 56;  // positions run: seven windows

// A tiny Mistral with a window of 8 and 64 positions, written by the exporter, its q and k
// projections scaled up (as tests/unit/family_fixture.h) so that attention is sharp and a wrong
// slot shows; the classifier is not, so that logits stay near 1 and 1e-6 is a float32 bound.
std::unique_ptr<LlamaModel> tinyMistral(const TempDir& dir) {
  ModelConfig c;
  c.family = ModelFamily::kMistral;
  c.dim = 32;
  c.hiddenDim = 48;
  c.nLayers = 2;
  c.nHeads = 4;
  c.nKvHeads = 2;
  c.vocabSize = 40;
  c.seqLen = 64;
  c.normEps = 1e-5f;
  c.ropeTheta = 1e6f;
  c.ropeStyle = RopeStyle::kHalfSplit;
  c.sharedClassifier = false;
  c.slidingWindow = kWindow;
  StackedWeights w = randomWeights(c, 11);
  w.wq.mul_(10);
  w.wk.mul_(10);
  writeHfCheckpoint(dir.file("mistral"), c, w, HfExportOptions{});
  return loadModel(dir.file("mistral"));
}

std::vector<int> tokens(int n) {
  std::vector<int> ids;
  for (int i = 0; i < n; ++i) ids.push_back((i * 7 + 3) % 40);
  return ids;
}

// The cells of `kept` a query at position `length` can still see: last > length - W, a plain
// loop independent of hiddenPrefix.
std::vector<Slot> visibleCells(const std::vector<Slot>& kept, int length) {
  std::vector<Slot> out;
  for (const Slot& s : kept) {
    if (s.last > length - kWindow) out.push_back(s);
  }
  return out;
}

bool sameCells(const std::vector<Slot>& a, const std::vector<Slot>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first || a[i].last != b[i].last || a[i].pivot != b[i].pivot ||
        a[i].count != b[i].count) {
      return false;
    }
  }
  return true;
}

// The window of 3 over a compressed layer and a plain one at length 8: the next query (position
// 8) sees positions 6, 7, 8, so every slot whose newest token is 5 or older goes.
TEST(WindowTrim, DropsExactlyTheSlotsTheNextQueryCannotSee) {
  ModelConfig c;
  c.dim = 16;
  c.nLayers = 2;
  c.nHeads = 4;
  c.nKvHeads = 2;
  c.seqLen = 32;
  c.slidingWindow = 3;
  const int D = c.headDim();
  KvCache cache(c);
  cache.beginAppend(8);
  const at::Tensor k1 = at::randn({8, 2, D}), v1 = at::randn({8, 2, D});
  cache.write(0, at::randn({8, 2, D}), at::randn({8, 2, D}));
  cache.write(1, k1, v1);
  cache.commit();
  const at::Tensor k0 = at::randn({2, 4, D}), v0 = at::randn({2, 4, D});
  LayerCells cells{{{Slot{0, 3, 1, 4, 0}, Slot{4, 5, 5, 2, 0}, Slot::token(6), Slot::token(7)},
                    {Slot{0, 6, 3, 7, 0}, Slot::token(7), Slot{}, Slot{}}},
                   {HeadDecision{0.5, 1}, HeadDecision{0.25, 0}}};
  cells.heads[1].resize(2);
  cache.replaceLayer(0, k0, v0, cells);

  cache.setWindowCache(WindowCache::kKeep);
  EXPECT_EQ(trimToWindow(cache), 0);  // kept behind the mask
  cache.setWindowCache(WindowCache::kTrim);
  EXPECT_EQ(trimToWindow(cache, {/*minDropped=*/7}), 0);  // no head has 7 to drop yet
  EXPECT_EQ(cache.totalSlots(), 4 + 2 + 8 + 8);
  // Layer 0: head 0 loses [0..3] and [4..5]; head 1 keeps [0..6] (its newest, 6, is seen).
  // Layer 1: positions 0..5 go from both heads.
  EXPECT_EQ(trimToWindow(cache), 2 + 0 + 6 + 6);
  EXPECT_TRUE(sameCells(cache.cells(0, 0), {Slot::token(6), Slot::token(7)}));
  EXPECT_TRUE(sameCells(cache.cells(0, 1), {Slot{0, 6, 3, 7, 0}, Slot::token(7)}));
  for (int h = 0; h < 2; ++h) {
    EXPECT_TRUE(sameCells(cache.cells(1, h), {Slot::token(6), Slot::token(7)}));
    // The kept rows are the old ones, bit for bit.
    EXPECT_TRUE(at::equal(cache.keys(1)[h].narrow(0, 0, 2), k1.select(1, h).narrow(0, 6, 2)));
    EXPECT_TRUE(at::equal(cache.values(1)[h].narrow(0, 0, 2), v1.select(1, h).narrow(0, 6, 2)));
  }
  EXPECT_TRUE(at::equal(cache.keys(0)[0].narrow(0, 0, 2), k0[0].narrow(0, 2, 2)));
  EXPECT_TRUE(at::equal(cache.keys(0)[1].narrow(0, 0, 2), k0[1].narrow(0, 0, 2)));
  EXPECT_EQ(cache.decision(0, 0).eps, 0.5);  // the method's decisions stay
  EXPECT_EQ(cache.decision(0, 0).releasedProtected, 1);
  const CacheMemory m = cache.memory();
  EXPECT_EQ(m.window.window, 3);
  EXPECT_TRUE(m.window.trimmed);
  EXPECT_EQ(m.window.droppedSlots, 14);
  EXPECT_EQ(m.window.droppedBytes, 14 * 2 * D * 4);
  EXPECT_EQ(m.window.maxHeadSlots, 2);
  EXPECT_EQ(trimToWindow(cache), 0);  // nothing more until the next token
}

// Decoding teacher-forced from prompts shorter and longer than the window to seven windows:
// every variant's log-probabilities with the trim are those of the same variant keeping every
// slot, and its final cells are the kept run's cells that the window still shows.
TEST(WindowCache, TrimmedDecodeMatchesTheKeptWindowForEveryPromptCompression) {
  TempDir dir;
  const auto model = tinyMistral(dir);
  std::vector<CompressionParams> variants(5);
  variants[1].method = "kvmerger";
  variants[2].method = "h2o";
  variants[3].method = "streaming";
  variants[4].method = "streaming";
  variants[4].positions = StreamingPositions::kCache;
  const std::vector<int> forced = tokens(kSteps);
  for (int P : {5, 20}) {
    GenerationRequest request;
    request.promptIds = tokens(P);
    request.steps = kSteps;
    const std::vector<int> teacher(forced.begin() + P, forced.end());
    DecodeHooks hooks;
    hooks.forced = &teacher;
    hooks.keepLogProbs = true;
    for (const CompressionParams& params : variants) {
      SCOPED_TRACE(variantName(params) + " " + toString(params.positions) + ", prompt " +
                   std::to_string(P));
      const bool track = compresses(params);
      request.windowCache = WindowCache::kKeep;
      const DecodeResult kept =
          decode(*model, prefillStart(*model, request.promptIds, params.gqaReduction, track),
                 request, params, hooks);
      request.windowCache = WindowCache::kTrim;
      const DecodeResult trimmed =
          decode(*model, prefillStart(*model, request.promptIds, params.gqaReduction, track),
                 request, params, hooks);
      ASSERT_EQ(kept.logProbs.size(), teacher.size());
      ASSERT_EQ(trimmed.logProbs.size(), teacher.size());
      double worst = 0;
      for (size_t t = 0; t < teacher.size(); ++t) {
        worst =
            std::max(worst, (kept.logProbs[t] - trimmed.logProbs[t]).abs().max().item<double>());
      }
      // Cache positions turn the kept keys back in float32 (one rounding); the rest is exact.
      EXPECT_LE(worst, usesCachePositions(params) ? 1e-5 : 1e-6);
      const int length = kSteps - 1;  // positions in the cache: no pass after the last token
      int64_t keptTotal = 0, trimmedTotal = 0;
      for (int l = 0; l < 2; ++l) {
        for (int h = 0; h < 2; ++h) {
          const auto& all = kept.cells.head(l, h);
          const auto& left = trimmed.cells.head(l, h);
          const auto visible = visibleCells(all, length);
          // Chunk 1 for a window of 8: everything hidden is gone at the end.
          EXPECT_TRUE(sameCells(left, visible)) << "layer " << l << " head " << h;
          EXPECT_LE(static_cast<int>(left.size()), kWindow - 1);
          keptTotal += static_cast<int64_t>(all.size());
          trimmedTotal += static_cast<int64_t>(left.size());
        }
      }
      EXPECT_EQ(trimmed.memory.window.droppedSlots, keptTotal - trimmedTotal);
      EXPECT_EQ(trimmed.memory.window.droppedBytes, (keptTotal - trimmedTotal) * 2 * 8 * 4);
      EXPECT_EQ(kept.memory.window.droppedSlots, 0);
      EXPECT_FALSE(kept.memory.window.trimmed);
      EXPECT_LT(trimmed.memory.allocated, kept.memory.allocated);
      if (P > kWindow) {  // the prompt's own hidden slots went before decoding
        EXPECT_GT(trimmed.compression.window.droppedSlots, 0);
      } else {
        EXPECT_EQ(trimmed.compression.window.droppedSlots, 0);
      }
    }
  }
}

// Step by step on the model's own forward: logits identical to the kept cache's, and no head
// ever holds more than windowSlotBound (the token of the pass included).
TEST(WindowCache, SlotsPerHeadStayWithinTheWindowAtEveryStep) {
  TempDir dir;
  const auto model = tinyMistral(dir);
  KvCache kept = model->makeCache(), trimmed = model->makeCache();
  kept.setWindowCache(WindowCache::kKeep);
  const std::vector<int> ids = tokens(kSteps);
  const std::vector<int> prompt(ids.begin(), ids.begin() + 12);
  at::Tensor a = model->forward(prompt, kept), b = model->forward(prompt, trimmed);
  trimToWindow(trimmed, {1, windowTrimChunk(kWindow)});
  int most = 0;
  double worst = (a - b).abs().max().item<double>();
  for (int p = 12; p < kSteps; ++p) {
    a = model->forward({ids[p]}, kept);
    b = model->forward({ids[p]}, trimmed);
    worst = std::max(worst, (a - b).abs().max().item<double>());
    for (int l = 0; l < 2; ++l) {  // before the trim: what the pass held, its token included
      for (int h = 0; h < 2; ++h) most = std::max(most, trimmed.slotCount(l, h));
    }
    trimToWindow(trimmed, {windowTrimChunk(kWindow), windowTrimChunk(kWindow)});
  }
  EXPECT_LE(worst, 1e-6);
  EXPECT_EQ(most, windowSlotBound(kWindow));  // = W for a window of 8
  EXPECT_EQ(kept.slotCount(0, 0), kSteps);
  EXPECT_EQ(trimmed.memory().window.droppedSlots, 2 * 2 * (kSteps - (kWindow - 1)));
}

// Compression while decoding works on what the window leaves: it runs, and the cache stays
// within the window.
TEST(WindowCache, DecodeTimeCompressionStaysWithinTheWindow) {
  TempDir dir;
  const auto model = tinyMistral(dir);
  CompressionParams params;
  params.method = "h2o";
  params.decodeCompression = true;
  GenerationRequest request;
  request.promptIds = tokens(20);
  request.steps = kSteps;
  request.sampling.temperature = 0;
  const DecodeResult r = decode(
      *model, prefillStart(*model, request.promptIds, params.gqaReduction, true), request, params);
  EXPECT_EQ(static_cast<int>(r.generatedIds.size()), kSteps - 20 + 1);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      const auto& cells = r.cells.head(l, h);
      EXPECT_LE(static_cast<int>(cells.size()), kWindow);
      // H2O's heavy hitters included: nothing the next query could not see is left.
      EXPECT_EQ(visibleCells(cells, kSteps).size(), cells.size()) << "layer " << l << " head " << h;
    }
  }
  // Dropped while decoding too, not only from the prompt.
  EXPECT_GT(r.memory.window.droppedSlots, r.compression.window.droppedSlots);
}

}  // namespace
}  // namespace kvs
