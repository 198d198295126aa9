// SnapKV (Li et al., NeurIPS 2024, arXiv 2404.14469): the prompt's last `window` queries (the
// observation window) vote for the earlier tokens each KV head keeps. Their attention, summed over
// the window, is smoothed with a 1-D pool of kernel_size (neighbours of a chosen token come along)
// and reduced over the query heads of each KV head; the top tokens and the window itself are kept,
// the rest evicted. As the authors' code and kvpress's SnapKVPress: prompt only, odd kernel,
// padding kernel/2, stride 1, average pooling counting the padding.

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "util/error.h"

namespace kvs {
namespace {

int intOption(const CompressionParams& p, const char* key) {
  return paramSpec(key).get(p).get<int>();
}

class SnapKVPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;

  std::vector<HeadPlan> planLayer(const KvCache& cache, int l) const override {
    const int T = cache.length(), H = cache.nKvHeads();
    for (int h = 0; h < H; ++h) {
      require(cache.slotCount(l, h) == T,
              "SnapKV compresses the whole prompt once; this cache is already compressed");
    }
    const int target = params_.targetSlots(T);
    std::vector<HeadPlan> heads;
    if (target >= T) {
      for (int h = 0; h < H; ++h) heads.push_back(keepAll(cache.cells(l, h)));
      return heads;
    }
    // The window is always kept, so it cannot exceed the budget.
    const int w = std::min(intOption(params_, "snapkv_window"), target);
    const at::Tensor scores = windowScores(cache, l, w);  // [Hkv, T - w]
    for (int h = 0; h < H; ++h) {
      const auto& old = cache.cells(l, h);
      heads.push_back(HeadPlan::keep(old, keptTokens(scores[h], T, w, target)));
    }
    return heads;
  }

 private:
  static HeadPlan keepAll(const std::vector<Slot>& old) {
    std::vector<int> all(old.size());
    std::iota(all.begin(), all.end(), 0);
    return HeadPlan::keep(old, all);
  }

  // [Hkv, T - w]: each earlier token's vote from the window queries of each KV head.
  at::Tensor windowScores(const KvCache& cache, int l, int w) const {
    const int T = cache.length(), Hkv = cache.nKvHeads(), D = cache.headDim();
    const at::Tensor queries = cache.promptQueries(l);
    require(queries.defined() && queries.size(1) >= w,
            "SnapKV needs the queries of the prompt's last " + std::to_string(w) +
                " tokens, which a forward pass over the prompt keeps; this cache was not filled "
                "by one (e.g. it came from a recording)");
    const int64_t Hq = queries.size(0), G = Hq / Hkv;
    const at::Tensor q = queries.narrow(1, queries.size(1) - w, w).to(at::kFloat);  // [Hq, w, D]
    const at::Tensor k = cache.keys(l).narrow(1, 0, T).to(at::kFloat);              // [Hkv, T, D]
    // Query head i uses KV head i / G.
    const at::Tensor kq = k.repeat_interleave(G, 0);                                // [Hq, T, D]
    at::Tensor logits = at::bmm(q, kq.transpose(1, 2)).div_(std::sqrt(double(D)));  // [Hq, w, T]
    // Window query i sits at position T - w + i and sees keys 0 .. T - w + i.
    const auto ints = at::TensorOptions(at::kLong).device(logits.device());
    const at::Tensor row = at::arange(w, ints).unsqueeze(1) + (T - w);
    const at::Tensor causal = at::arange(T, ints).unsqueeze(0) <= row;  // [w, T]
    logits.masked_fill_(causal.logical_not().unsqueeze(0), -INFINITY);
    const at::Tensor votes =
        at::softmax(logits, -1).narrow(2, 0, T - w).sum(1).unsqueeze(1);  // [Hq, 1, T - w]
    const int kernel = intOption(params_, "snapkv_kernel");
    const bool maxPool = paramSpec("snapkv_pooling").get(params_) == "max";
    const at::Tensor pooled =
        (maxPool ? at::max_pool1d(votes, {kernel}, {1}, {kernel / 2})
                 : at::avg_pool1d(votes, {kernel}, {1}, {kernel / 2}, false, true))
            .view({Hkv, G, T - w});
    switch (params_.gqaReduction) {
      case GqaReduction::kMean:
        return pooled.mean(1);
      case GqaReduction::kSum:
        return pooled.sum(1);
      case GqaReduction::kMax:
        return std::get<0>(pooled.max(1));
    }
    return pooled.mean(1);
  }

  // The target - w best-scored earlier tokens (ties: the earlier token) and the window, in order.
  static std::vector<int> keptTokens(const at::Tensor& headScores, int T, int w, int target) {
    const at::Tensor s = headScores.to(at::kCPU).contiguous();
    const float* score = s.data_ptr<float>();
    std::vector<int> order(T - w);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
    std::vector<int> kept(order.begin(), order.begin() + (target - w));
    std::sort(kept.begin(), kept.end());
    for (int i = T - w; i < T; ++i) kept.push_back(i);
    return kept;
  }
};

class SnapKVMethod : public MethodWithPolicy<SnapKVPolicy> {
 public:
  std::string name() const override { return "snapkv"; }
  std::string title() const override { return "SnapKV"; }
  std::string summary() const override {
    return "The prompt's last queries (the observation window) vote, pooled over neighbours, for "
           "the earlier tokens each KV head keeps; the window is kept too. Prompt only.";
  }
  std::string reference() const override {
    return "Li et al., NeurIPS 2024 (arXiv 2404.14469); FasterDecoding/SnapKV, kvpress";
  }
  std::vector<std::string> parameterKeys() const override {
    return {"budget",        "budget_tokens",  "snapkv_window",
            "snapkv_kernel", "snapkv_pooling", "gqa_reduction"};
  }
  std::vector<ParamSpec> ownParams() const override {
    return {
        ownWholeParam("snapkv-window", "snapkv_window", "Window",
                      "SnapKV: prompt queries that vote, the last ones (default 64, as the "
                      "authors' code and kvpress; capped at the budget, always kept)",
                      1, KvCache::kPromptQueries, 64),
        ownWholeParam("snapkv-kernel", "snapkv_kernel", "Pool kernel",
                      "SnapKV: width of the pooling over neighbouring tokens, odd (default 5)", 1,
                      63, 5),
        ownChoiceParam("snapkv-pooling", "snapkv_pooling", "Pooling",
                       "SnapKV: avg (default) or max pooling of the votes", {"avg", "max"}, "avg")};
  }
  void validate(const CompressionParams& p) const override {
    require(intOption(p, "snapkv_kernel") % 2 == 1,
            "--snapkv-kernel must be odd (the pool is centred on each token), got " +
                std::to_string(intOption(p, "snapkv_kernel")));
    require(!p.decodeCompression,
            "SnapKV compresses the prompt once, as its authors' code does; drop "
            "--decode-compression");
  }
};

}  // namespace

const CompressionMethod& snapkvMethod() {
  return theMethod<SnapKVMethod>();
}

}  // namespace kvs
