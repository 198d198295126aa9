// Attention over a compressed cache (heads of different lengths, merged slots, decode-time
// appends, GQA) equals attention computed naively over the same explicit slot list.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>

#include "cache/kv_cache.h"
#include "model/layer_observer.h"
#include "model/llama_model.h"

namespace kvs {
namespace {

class Taps : public LayerObserver {
 public:
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    tensors[{layer, name}] = t.clone();
  }
  bool wantsAttention() const override { return true; }
  std::map<std::pair<int, std::string>, at::Tensor> tensors;
};

int idx0Size(int T) {
  return (T - 2) / 3 + 1 + 1;
}  // every third token, and the last one

// headDim 8 with a short prompt takes the batched attention path; headDim 64 over 300 tokens the
// per-head gemv path of decoding.
void checkCompressedAttention(int headDim, int promptLength, bool withBias = false) {
  ModelConfig c;
  c.dim = 6 * headDim, c.hiddenDim = 64, c.nLayers = 2, c.nHeads = 6, c.nKvHeads = 2;  // G = 3
  c.vocabSize = 30, c.seqLen = promptLength + 8;
  StackedWeights w = randomWeights(c, 21);
  for (at::Tensor* t : {&w.wq, &w.wk, &w.wv}) t->mul_(10.0);
  w.embedding.mul_(20.0);
  const LlamaModel model(c, fuseWeights(c, w));
  KvCache cache = model.makeCache();
  std::vector<int> prompt;
  for (int i = 0; i < promptLength; ++i) prompt.push_back((i * 7 + 1) % c.vocabSize);
  model.forward(prompt, cache);
  const int T = promptLength;

  // Explicit slot lists per (layer, head): subsets, a merged slot, different lengths per head.
  std::map<std::pair<int, int>, std::pair<at::Tensor, at::Tensor>> slots;  // keys, values [S, D]
  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor K = cache.keys(l).clone(), V = cache.values(l).clone();  // [Hkv, T, D]
    const at::Tensor idx0 =
        at::cat({at::arange(0, T - 1, 3, at::kLong), at::tensor({T - 1}, at::kLong)});
    const at::Tensor merged = K[1].narrow(0, 1, 4).mean(0, true);  // tokens 1-4 as one slot
    slots[{l, 0}] = {K[0].index_select(0, idx0), V[0].index_select(0, idx0)};
    slots[{l, 1}] = {at::cat({K[1].narrow(0, 0, 1), merged, K[1].narrow(0, 5, T - 5)}),
                     at::cat({V[1].narrow(0, 0, 1), 4 * V[1].narrow(0, 1, 4).mean(0, true),
                              V[1].narrow(0, 5, T - 5)})};
    LayerCells cells;  // the same slots' metadata: head 0's tokens, head 1's merged 1-4
    cells.heads.resize(2);
    for (int64_t i = 0; i < idx0.size(0); ++i) {
      cells.heads[0].push_back(Slot::token(static_cast<int>(idx0[i].item<int64_t>())));
    }
    cells.heads[1] = {Slot::token(0), Slot{1, 4, 1, 4, 0.0}};
    for (int t = 5; t < T; ++t) cells.heads[1].push_back(Slot::token(t));
    cache.replaceLayer(l, {slots[{l, 0}].first, slots[{l, 1}].first},
                       {slots[{l, 0}].second, slots[{l, 1}].second}, std::move(cells));
  }
  // Optional per-slot logit bias (KVMerger's +log(n)): log(4) on head 1's merged slot.
  std::map<std::pair<int, int>, at::Tensor> bias;  // [S] per (layer, head), for the naive side
  for (int l = 0; l < c.nLayers; ++l) {
    bias[{l, 0}] = at::zeros({idx0Size(T)});
    bias[{l, 1}] = at::zeros({T - 3});
    if (!withBias) continue;
    bias[{l, 1}][1] = std::log(4.0f);
    bias[{l, 0}][0] = -0.5f;
    at::Tensor b = at::zeros({2, T - 3});
    b[0].narrow(0, 0, idx0Size(T)).copy_(bias[{l, 0}]);
    b[1].copy_(bias[{l, 1}]);
    cache.setSlotBias(l, b);
  }
  ASSERT_EQ(cache.slotCount(0, 0), idx0Size(T));
  ASSERT_EQ(cache.slotCount(0, 1), T - 3);

  // Decode two tokens one by one, then two at once (teacher forcing); check every step.
  for (const std::vector<int>& step : {std::vector<int>{12}, {13}, {14, 15}}) {
    Taps taps;
    model.forward(step, cache, LogitsMode::kLast, &taps);
    const int64_t n = static_cast<int64_t>(step.size());
    for (int l = 0; l < c.nLayers; ++l) {
      const at::Tensor q = taps.tensors[{l, "q"}];           // [Hq, n, D]
      const at::Tensor k = taps.tensors[{l, "k"}];           // [Hkv, n, D]
      const at::Tensor v = taps.tensors[{l, "v"}];           // [Hkv, n, D]
      const at::Tensor out = taps.tensors[{l, "attn_out"}];  // [Hq, n, D]
      for (int h = 0; h < c.nHeads; ++h) {
        const int kvh = h / 3;
        auto& [K, V] = slots[{l, kvh}];
        for (int64_t i = 0; i < n; ++i) {
          // Naive: this query over the explicit slots plus the new tokens up to itself.
          const at::Tensor keys = at::cat({K, k[kvh].narrow(0, 0, i + 1)});
          const at::Tensor values = at::cat({V, v[kvh].narrow(0, 0, i + 1)});
          const at::Tensor logitBias = at::cat({bias[{l, kvh}], at::zeros({i + 1})});
          const at::Tensor p =
              at::softmax(at::mv(keys, q[h][i]) / std::sqrt(double(headDim)) + logitBias, 0);
          const at::Tensor expected = at::mv(values.t(), p);
          EXPECT_TRUE(at::allclose(out[h][i], expected, 1e-4, 1e-5))
              << "layer " << l << " head " << h << " query " << i;
        }
      }
      for (int kvh = 0; kvh < 2; ++kvh) {  // the cache appended the new tokens to every head
        auto& [K, V] = slots[{l, kvh}];
        K = at::cat({K, k[kvh]});
        V = at::cat({V, v[kvh]});
        bias[{l, kvh}] = at::cat({bias[{l, kvh}], at::zeros({n})});  // new slots: no bias
      }
    }
  }
}

TEST(CompressedAttention, EqualsNaiveAttentionOverTheExplicitSlotList) {
  checkCompressedAttention(8, 10);
}

TEST(CompressedAttention, SlotBiasIsAddedToTheLogits) {
  checkCompressedAttention(8, 10, true);
  checkCompressedAttention(64, 300, true);
}

TEST(CompressedAttention, EqualsNaiveAttentionOnTheLongCacheDecodePath) {
  checkCompressedAttention(64, 300);
}

}  // namespace
}  // namespace kvs
