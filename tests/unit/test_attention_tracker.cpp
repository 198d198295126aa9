// Accumulated attention per slot: prefill and decode, GQA reductions, compressed caches.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_plan.h"
#include "model/llama_model.h"

namespace kvs {
namespace {

class AttentionCapture : public LayerObserver {
 public:
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    if (name == "attn") attn[layer].push_back(t.clone());
  }
  bool wantsAttention() const override { return true; }
  std::map<int, std::vector<at::Tensor>> attn;
};

// Both observers at once.
class Both : public LayerObserver {
 public:
  Both(LayerObserver& a, LayerObserver& b) : a_(a), b_(b) {}
  void beginForward(int p, int n) override {
    a_.beginForward(p, n);
    b_.beginForward(p, n);
  }
  void onTensor(int l, const std::string& name, const at::Tensor& t) override {
    a_.onTensor(l, name, t);
    b_.onTensor(l, name, t);
  }
  bool wantsAttention() const override { return true; }

 private:
  LayerObserver &a_, &b_;
};

TEST(AttentionTracker, SumsAttentionOverQueriesAndReducesOverTheGroup) {
  ModelConfig c;
  c.dim = 32, c.hiddenDim = 40, c.nLayers = 2, c.nHeads = 4, c.nKvHeads = 2, c.vocabSize = 20;
  c.seqLen = 32;
  const LlamaModel model(c, fuseWeights(c, randomWeights(c, 3)));
  for (GqaReduction reduction : {GqaReduction::kMean, GqaReduction::kSum, GqaReduction::kMax}) {
    KvCache cache = model.makeCache();
    AttentionTracker tracker(cache, 2, reduction);
    AttentionCapture capture;
    Both both(tracker, capture);
    model.forward({1, 4, 6, 2, 9, 3}, cache, LogitsMode::kLast, &both);
    model.forward({7}, cache, LogitsMode::kLast, &both);
    model.forward({8}, cache, LogitsMode::kLast, &both);
    for (int l = 0; l < 2; ++l) {
      ASSERT_EQ(cache.cells(l, 0).size(), 8u);
      for (int h = 0; h < 2; ++h) {
        for (int j = 0; j < 8; ++j) {
          double expected = 0;
          std::vector<double> perQueryHead(2, 0.0);
          for (const at::Tensor& a : capture.attn[l]) {  // [Hq, n, Tk]
            if (j >= a.size(2)) continue;
            for (int g = 0; g < 2; ++g)
              perQueryHead[g] += a[h * 2 + g].select(1, j).sum().item<double>();
          }
          switch (reduction) {
            case GqaReduction::kMean:
              expected = (perQueryHead[0] + perQueryHead[1]) / 2;
              break;
            case GqaReduction::kSum:
              expected = perQueryHead[0] + perQueryHead[1];
              break;
            case GqaReduction::kMax:
              break;  // max is taken per step, checked below
          }
          if (reduction != GqaReduction::kMax) {
            EXPECT_NEAR(cache.cells(l, h)[j].attention, expected, 1e-5);
          } else {
            EXPECT_GE(cache.cells(l, h)[j].attention + 1e-6,
                      std::max(perQueryHead[0], perQueryHead[1]) / 8);
          }
        }
        // Each query's attention sums to 1 over slots: total = queries (x group for sum).
        double total = 0;
        for (const Slot& s : cache.cells(l, h)) total += s.attention;
        if (reduction == GqaReduction::kMean) EXPECT_NEAR(total, 8.0, 1e-4);
        if (reduction == GqaReduction::kSum) EXPECT_NEAR(total, 16.0, 1e-4);
      }
    }
  }
}

TEST(AttentionTracker, FollowsSlotsOfHeadsWithDifferentLengths) {
  ModelConfig c;
  c.dim = 32, c.hiddenDim = 40, c.nLayers = 2, c.nHeads = 4, c.nKvHeads = 2, c.vocabSize = 20;
  c.seqLen = 32;
  const LlamaModel model(c, fuseWeights(c, randomWeights(c, 4)));
  KvCache cache = model.makeCache();
  AttentionTracker tracker(cache, 2, GqaReduction::kSum);
  model.forward({1, 4, 6, 2, 9, 3, 5, 7}, cache, LogitsMode::kLast, &tracker);
  // Head 0 keeps 3 slots, head 1 keeps 6, in both layers.
  CompressionPlan plan;
  for (int l = 0; l < 2; ++l) {
    plan.layers.push_back({HeadPlan::keep(cache.cells(l, 0), {0, 3, 7}),
                           HeadPlan::keep(cache.cells(l, 1), {0, 1, 2, 5, 6, 7})});
  }
  applyPlan(plan, cache);
  std::vector<std::vector<double>> before(2);
  for (int h = 0; h < 2; ++h) {
    for (const Slot& s : cache.cells(1, h)) before[h].push_back(s.attention);
  }
  AttentionCapture capture;
  Both both(tracker, capture);
  model.forward({8}, cache, LogitsMode::kLast, &both);
  const at::Tensor attn = capture.attn[1][0];  // [Hq, 1, Tk = 6 + 1]
  ASSERT_EQ(attn.size(2), 7);
  for (int h = 0; h < 2; ++h) {
    const auto& slots = cache.cells(1, h);
    ASSERT_EQ(slots.size(), h == 0 ? 4u : 7u);
    EXPECT_EQ(slots.back().first, 8);  // the new token, after the head's own slots
    double total = 0;
    for (size_t j = 0; j < slots.size(); ++j) {
      const double paid = attn[2 * h][0][j].item<double>() + attn[2 * h + 1][0][j].item<double>();
      const double old = j < before[h].size() ? before[h][j] : 0.0;
      EXPECT_NEAR(slots[j].attention - old, paid, 1e-6) << "head " << h << " slot " << j;
      total += paid;
    }
    EXPECT_NEAR(total, 2.0, 1e-5);  // two query heads, each summing to 1 over the head's slots
  }
  // Head 0's padding slots get no attention.
  EXPECT_EQ(attn[0][0].narrow(0, 4, 3).abs().sum().item<float>(), 0.0f);
}

}  // namespace
}  // namespace kvs
