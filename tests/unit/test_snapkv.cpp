// SnapKV against a plain-loop reference written here from the paper and kvpress's SnapKVPress:
// the model's own attention probabilities (its "attn" tap, not recomputed from queries) summed
// over the last `window` queries, pooled over `kernel` neighbours (zero padding counted by the
// average, ignored by the max), reduced over the query heads of each KV head; the top
// budget - window earlier tokens (ties: the earlier token) and the window are kept.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "compression_fixture.h"
#include "model/layer_observer.h"
#include "model/llama_model.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

constexpr int kT = 20;  // prompt tokens; the tiny model: L = 2, Hq = 4, Hkv = 2, D = 4, G = 2

struct AttentionTaps : LayerObserver {
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    if (name == "attn") attention[layer] = t.to(at::kDouble).contiguous();  // [Hq, T, T]
  }
  bool wantsAttention() const override { return true; }
  std::map<int, at::Tensor> attention;
};

struct Prefilled {
  KvCache cache;
  AttentionTaps taps;
};

// The tiny model on a 20-token prompt, its attention made uneven so the choice is not a tie.
std::unique_ptr<Prefilled> prefill(const LlamaModel& model) {
  auto out = std::make_unique<Prefilled>(Prefilled{model.makeCache(), {}});
  std::vector<int> prompt;
  for (int i = 0; i < kT; ++i) prompt.push_back((i * 7 + 3) % model.config().vocabSize);
  AttentionTracker tracker(out->cache, 2, GqaReduction::kMean);
  struct Both : LayerObserver {
    LayerObserver *a, *b;
    void beginForward(int f, int n) override { a->beginForward(f, n), b->beginForward(f, n); }
    void onTensor(int l, const std::string& name, const at::Tensor& t) override {
      a->onTensor(l, name, t), b->onTensor(l, name, t);
    }
    bool wantsAttention() const override { return true; }
  } both;
  both.a = &tracker, both.b = &out->taps;
  model.forward(prompt, out->cache, LogitsMode::kLast, &both);
  return out;
}

struct Setting {
  int window, kernel, budget;
  const char* pooling;
  GqaReduction reduction;
};

// [Hkv] of kept token indices, by plain loops over the model's attention of one layer.
std::vector<std::vector<int>> reference(const at::Tensor& attention, const Setting& s) {
  const int w = std::min(s.window, s.budget), n = kT - w, half = s.kernel / 2;
  const double* a = attention.data_ptr<double>();  // [Hq, T, T]
  std::vector<std::vector<double>> pooled(4, std::vector<double>(n, 0.0));
  for (int qh = 0; qh < 4; ++qh) {
    std::vector<double> votes(n, 0.0);
    for (int i = kT - w; i < kT; ++i) {
      for (int j = 0; j < n; ++j) votes[j] += a[(qh * kT + i) * kT + j];
    }
    for (int j = 0; j < n; ++j) {
      double sum = 0, best = -1e300;
      for (int d = -half; d <= half; ++d) {
        if (j + d < 0 || j + d >= n) continue;
        sum += votes[j + d];
        best = std::max(best, votes[j + d]);
      }
      pooled[qh][j] = std::string(s.pooling) == "max" ? best : sum / s.kernel;
    }
  }
  std::vector<std::vector<int>> kept(2);
  for (int h = 0; h < 2; ++h) {
    std::vector<double> score(n);
    for (int j = 0; j < n; ++j) {
      const double x0 = pooled[2 * h][j], x1 = pooled[2 * h + 1][j];
      score[j] = s.reduction == GqaReduction::kMean  ? (x0 + x1) / 2
                 : s.reduction == GqaReduction::kSum ? x0 + x1
                                                     : std::max(x0, x1);
    }
    std::vector<char> keep(kT, 0);
    for (int i = n; i < kT; ++i) keep[i] = 1;  // the window
    for (int k = 0; k < s.budget - w; ++k) {
      int best = -1;
      for (int j = 0; j < n; ++j)
        best = !keep[j] && (best < 0 || score[j] > score[best]) ? j : best;
      keep[best] = 1;
    }
    for (int i = 0; i < kT; ++i) kept[h].insert(kept[h].end(), keep[i], i);
  }
  return kept;
}

CompressionParams snapkv(const Setting& s) {
  CompressionParams p;
  p.method = "snapkv";
  p.budgetTokens = s.budget;
  p.gqaReduction = s.reduction;
  p.options = {
      {"snapkv_window", s.window}, {"snapkv_kernel", s.kernel}, {"snapkv_pooling", s.pooling}};
  return p;
}

class SnapKV : public ::testing::Test {
 protected:
  SnapKV() : model_(makeModel()) {}
  static LlamaModel makeModel() {
    const ModelConfig c = test::tinyModelConfig(true);
    StackedWeights w = randomWeights(c, 31);
    for (at::Tensor* t : {&w.wq, &w.wk}) t->mul_(3.0);  // uneven attention
    return LlamaModel(c, fuseWeights(c, w));
  }
  LlamaModel model_;
};

TEST_F(SnapKV, KeepsTheWindowAndTheTokensItsPooledVotesChoose) {
  const Setting settings[] = {{4, 3, 10, "avg", GqaReduction::kMean},
                              {6, 5, 11, "max", GqaReduction::kMax},
                              {3, 1, 9, "avg", GqaReduction::kSum},
                              {5, 5, 12, "avg", GqaReduction::kMax},
                              {64, 5, 6, "avg", GqaReduction::kMean}};  // window capped at 6
  int differs = 0;  // settings whose choice differs from plain recency, so the check has teeth
  for (const Setting& s : settings) {
    const auto run = prefill(model_);
    makePolicy(snapkv(s))->compress(run->cache);
    for (int l = 0; l < 2; ++l) {
      const auto expected = reference(run->taps.attention.at(l), s);
      for (int h = 0; h < 2; ++h) {
        std::vector<int> got;
        for (const Slot& slot : run->cache.cells(l, h)) got.push_back(slot.first);
        EXPECT_EQ(got, expected[h]) << "window " << s.window << " kernel " << s.kernel << " "
                                    << s.pooling << " layer " << l << " head " << h;
        EXPECT_EQ(run->cache.slotCount(l, h), s.budget);
        differs += got.front() < kT - s.budget;
      }
    }
  }
  EXPECT_GT(differs, 8);
}

TEST_F(SnapKV, ABudgetAtLeastThePromptKeepsEverything) {
  const auto run = prefill(model_);
  makePolicy(snapkv({4, 5, kT, "avg", GqaReduction::kMean}))->compress(run->cache);
  EXPECT_EQ(run->cache.slotCount(1, 1), kT);
}

TEST_F(SnapKV, RefusesWhatItCannotDo) {
  // A cache filled without a forward pass (as from a recording) holds no queries to vote.
  const ModelConfig c = test::compressionConfig(kT);
  test::CompressionFixture f(c, at::randn({2, 2, kT, 4}), at::randn({2, 2, kT, 4}),
                             at::rand({2, 2, kT}));
  const std::string noQueries = test::errorOf([&] {
    f.compress(snapkv({4, 5, 10, "avg", GqaReduction::kMean}));
  });
  EXPECT_NE(noQueries.find("needs the queries of the prompt's last 4 tokens"), std::string::npos)
      << noQueries;
  CompressionParams even = snapkv({4, 4, 10, "avg", GqaReduction::kMean});
  EXPECT_NE(test::errorOf([&] { even.validate(); }).find("--snapkv-kernel must be odd"),
            std::string::npos);
  CompressionParams decoding = snapkv({4, 5, 10, "avg", GqaReduction::kMean});
  decoding.decodeCompression = true;
  EXPECT_NE(test::errorOf([&] { decoding.validate(); }).find("drop --decode-compression"),
            std::string::npos);
  CompressionParams big = snapkv({129, 5, 10, "avg", GqaReduction::kMean});
  EXPECT_NE(test::errorOf([&] { big.validate(); }).find("snapkv_window must be a whole number"),
            std::string::npos);
}

}  // namespace
}  // namespace kvs
