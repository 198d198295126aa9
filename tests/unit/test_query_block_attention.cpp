// A prompt's attention in blocks of query rows (model/query_block_attention.h), on a model whose
// 1,024-token prompt takes three blocks: logits and keys against the plain-loop reference
// (naive_llama.h); each row of the attention the observers see against a token-by-token decode of
// the same tokens; and a batched chunk over a compressed cache (heads of different lengths, so the
// mask's rows are sliced per block) against the same chunk token by token.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "cache/kv_cache.h"
#include "kernels/causal_attention.h"
#include "kernels/gemv.h"
#include "model/layer_observer.h"
#include "model/llama_model.h"
#include "model/query_block_attention.h"
#include "naive_llama.h"

namespace kvs {
namespace {

using kernels::Isa;

// Each test runs on both of queryBlockAttention's paths: LibTorch's matmuls block by block (any
// CPU; here under the plain instruction set) and the fused float32 rows (AVX-512 CPUs).
class QueryBlockAttention : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (GetParam() > kernels::bestIsa())
      GTEST_SKIP() << "this CPU lacks " << kernels::isaName(GetParam());
    if (GetParam() >= Isa::kAvx512 && !kernels::matvecEnabled())
      GTEST_SKIP() << "KVS_KERNELS=libtorch leaves the fused rows out";
    kernels::useIsa(GetParam());
    ASSERT_EQ(GetParam() >= Isa::kAvx512, kernels::causalAttentionAvailable());
  }
  void TearDown() override { kernels::useIsa(before_); }

 private:
  Isa before_ = kernels::activeIsa();
};

INSTANTIATE_TEST_SUITE_P(Paths, QueryBlockAttention, ::testing::Values(Isa::kPlain, Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                           return info.param == Isa::kPlain ? std::string("LibTorch")
                                                            : std::string("FusedRows");
                         });

constexpr int kPrompt = 1024;

ModelConfig manyHeads() {  // 16 query heads over 4 KV heads of dim 4
  ModelConfig c;
  c.dim = 64, c.hiddenDim = 48, c.nLayers = 2, c.nHeads = 16, c.nKvHeads = 4;
  c.vocabSize = 50, c.seqLen = 1200;
  return c;
}

StackedWeights sharpWeights(const ModelConfig& c) {  // attention far from uniform
  StackedWeights w = randomWeights(c, 8);
  for (at::Tensor* t : {&w.wq, &w.wk, &w.wv}) t->mul_(6.0);
  w.embedding.mul_(20.0);
  return w;
}

std::vector<int> tokens(int n, int salt) {
  std::vector<int> ids;
  for (int i = 0; i < n; ++i) ids.push_back((i * 7 + i / 3 + salt) % 50);
  return ids;
}

TEST_P(QueryBlockAttention, APromptInBlocksMatchesTheNaiveReference) {
  const ModelConfig c = manyHeads();
  ASSERT_EQ(384, queryBlockRows(c.nHeads, kPrompt));  // three blocks: 384, 384, 256 rows
  const StackedWeights w = sharpWeights(c);
  const LlamaModel model(c, fuseWeights(c, w));
  const std::vector<int> ids = tokens(kPrompt, 0);
  KvCache cache = model.makeCache();
  const at::Tensor logits = model.forward(ids, cache, LogitsMode::kAll);  // [n, V]
  const test::NaiveResult ref = test::naiveForward(c, w, ids);
  double worst = 0, scale = 0;
  for (int t = 0; t < kPrompt; ++t) {
    const at::Tensor e = at::tensor(ref.logits[t]);
    worst = std::max(worst, (logits[t] - e).abs().max().item<double>());
    scale = std::max(scale, e.abs().max().item<double>());
  }
  EXPECT_LE(worst, 1e-5 * scale);
  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor keys = cache.keys(l).transpose(0, 1).reshape({-1});  // [n * Hkv * D]
    const at::Tensor e = at::tensor(ref.keys[l]);
    EXPECT_LE((keys - e).abs().max().item<double>(), 1e-5 * e.abs().max().item<double>()) << l;
  }
}

// The attention and attention output of chosen positions, by (layer, name, position).
class PositionTaps : public LayerObserver {
 public:
  void beginForward(int firstPos, int n) override { first_ = firstPos, n_ = n; }
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    if (name != "attn" && name != "attn_out") return;
    for (int p : kPositions) {
      if (p >= first_ && p < first_ + n_) seen[{layer, name, p}] = t.select(1, p - first_).clone();
    }
  }
  bool wantsAttention() const override { return true; }
  static constexpr int kPositions[] = {0, 383, 384, 767, 768, kPrompt - 1};  // block edges
  std::map<std::tuple<int, std::string, int>, at::Tensor> seen;              // [Hq, Tk or D]

 private:
  int first_ = 0, n_ = 0;
};

TEST_P(QueryBlockAttention, ObserversSeeEachRowAsATokenByTokenDecodeDoes) {
  const ModelConfig c = manyHeads();
  const LlamaModel model(c, fuseWeights(c, sharpWeights(c)));
  const std::vector<int> ids = tokens(kPrompt, 0);
  PositionTaps batched, stepped;
  KvCache a = model.makeCache(), b = model.makeCache();
  model.forward(ids, a, LogitsMode::kLast, &batched);
  for (int id : ids) model.forward({id}, b, LogitsMode::kLast, &stepped);
  ASSERT_EQ(batched.seen.size(), stepped.seen.size());
  for (const auto& [key, row] : stepped.seen) {
    const auto& [layer, name, position] = key;
    const at::Tensor got = batched.seen.at(key);  // attn: [Hq, kPrompt], attn_out [Hq, D]
    const int64_t cols = row.size(1);             // attn: position + 1 slots when it was decoded
    EXPECT_TRUE(at::allclose(got.narrow(1, 0, cols), row, 1e-5, 1e-6))
        << layer << " " << name << " " << position;
    if (name == "attn" && cols < got.size(1)) {  // the later slots are hidden from this query
      EXPECT_EQ(0, got.narrow(1, cols, got.size(1) - cols).abs().max().item<float>()) << position;
    }
  }
}

TEST_P(QueryBlockAttention, AChunkOverACompressedCacheMatchesTokenByToken) {
  const ModelConfig c = manyHeads();
  const LlamaModel model(c, fuseWeights(c, sharpWeights(c)));
  KvCache cache = model.makeCache();
  const int P = 600, n = 500;
  model.forward(tokens(P, 1), cache);
  // KV head 0 of each layer keeps every other token, the others all: heads of different lengths.
  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor K = cache.keys(l).clone(), V = cache.values(l).clone();  // [Hkv, P, D]
    std::vector<at::Tensor> keys, values;
    LayerCells cells;
    cells.heads.resize(c.nKvHeads);
    for (int h = 0; h < c.nKvHeads; ++h) {
      const at::Tensor kept = at::arange(0, P, h == 0 ? 2 : 1, at::kLong);
      keys.push_back(K[h].index_select(0, kept));
      values.push_back(V[h].index_select(0, kept));
      for (int64_t i = 0; i < kept.size(0); ++i) {
        cells.heads[h].push_back(Slot::token(static_cast<int>(kept[i].item<int64_t>())));
      }
    }
    cache.replaceLayer(l, keys, values, std::move(cells));
  }
  ASSERT_LT(queryBlockRows(c.nHeads, P + n), n);  // two blocks at least
  KvCache stepwise = cache.clone();
  const std::vector<int> chunk = tokens(n, 2);
  const at::Tensor all = model.forward(chunk, cache, LogitsMode::kAll);  // [n, V]
  double worst = 0;
  for (int t = 0; t < n; ++t) {
    worst =
        std::max(worst, (model.forward({chunk[t]}, stepwise) - all[t]).abs().max().item<double>());
  }
  EXPECT_LE(worst, 1e-5 * all.abs().max().item<double>());
}

// Heads of equal length with a slot bias (KVMerger's +log n for merged slots): the cache's mask
// says more than causality here, so it must reach the chunk's attention.
TEST_P(QueryBlockAttention, AChunkOverABiasedCacheMatchesTokenByToken) {
  const ModelConfig c = manyHeads();
  const LlamaModel model(c, fuseWeights(c, sharpWeights(c)));
  KvCache cache = model.makeCache();
  const int P = 300, n = 200;
  model.forward(tokens(P, 3), cache);
  at::manual_seed(5);
  for (int l = 0; l < c.nLayers; ++l) {
    cache.setSlotBias(l, at::rand({c.nKvHeads, P}).mul_(4.0));  // [Hkv, P] in [0, 4)
  }
  ASSERT_FALSE(cache.masksOnlyCausally(0));
  KvCache stepwise = cache.clone();
  const std::vector<int> chunk = tokens(n, 4);
  const at::Tensor all = model.forward(chunk, cache, LogitsMode::kAll);  // [n, V]
  KvCache unbiased = stepwise.clone();
  for (int l = 0; l < c.nLayers; ++l) unbiased.setSlotBias(l, at::Tensor());
  double worst = 0;
  for (int t = 0; t < n; ++t) {
    worst =
        std::max(worst, (model.forward({chunk[t]}, stepwise) - all[t]).abs().max().item<double>());
  }
  EXPECT_LE(worst, 1e-5 * all.abs().max().item<double>());
  // And the bias matters: without it the chunk's logits are far from these.
  const at::Tensor plain = model.forward(chunk, unbiased, LogitsMode::kAll);
  EXPECT_GT((plain - all).abs().max().item<double>(), 1e-2 * all.abs().max().item<double>());
}

}  // namespace
}  // namespace kvs
