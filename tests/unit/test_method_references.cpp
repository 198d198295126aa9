// Each ablation switch of kvmerger-spec.md against an independent reference: hand-computed numbers,
// or a plain-loop re-implementation over doubles written here (never the production function).

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "compress/merging_sets.h"
#include "compression_fixture.h"
#include "model/layer_observer.h"
#include "model/llama_model.h"
#include "test_util.h"

namespace kvs {
namespace {

using test::compressionConfig;
using test::CompressionFixture;
using test::kvmerger;
using Rows = std::vector<std::vector<double>>;  // [T][D]

Rows rows(const at::Tensor& t) {  // [T, D] -> doubles
  const at::Tensor d = t.to(at::kDouble).contiguous();
  const double* p = d.data_ptr<double>();
  Rows out(d.size(0));
  for (size_t i = 0; i < out.size(); ++i) out[i].assign(p + i * d.size(1), p + (i + 1) * d.size(1));
  return out;
}
std::vector<double> vec(const at::Tensor& t) {  // [T] -> doubles
  return rows(t.reshape({1, -1}))[0];
}
double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

std::vector<double> refCosine(const Rows& k) {  // c[i] = cos(K[i], K[i+1]), norms >= 1e-6
  std::vector<double> c;
  for (size_t i = 0; i + 1 < k.size(); ++i) {
    c.push_back(dot(k[i], k[i + 1]) / (std::max(std::sqrt(dot(k[i], k[i])), 1e-6) *
                                       std::max(std::sqrt(dot(k[i + 1], k[i + 1])), 1e-6)));
  }
  return c;
}
// The `recent` last tokens, then `heavy` times the largest remaining attention (ties: lower index).
std::vector<char> refProtected(const std::vector<double>& a, int recent, int heavy) {
  const int T = static_cast<int>(a.size());
  std::vector<char> prot(T, 0);
  for (int i = std::max(0, T - recent); i < T; ++i) prot[i] = 1;
  for (int n = 0; n < heavy; ++n) {
    int best = -1;
    for (int i = 0; i < T; ++i) best = !prot[i] && (best < 0 || a[i] > a[best]) ? i : best;
    if (best >= 0) prot[best] = 1;
  }
  return prot;
}
std::vector<MergingSet> refScan(const std::vector<double>& c, const std::vector<char>& prot,
                                double eps) {
  std::vector<MergingSet> sets;  // newest first while scanning
  for (int i = static_cast<int>(prot.size()) - 1; i >= 0; --i) {
    if (!sets.empty() && !prot[i] && !prot[i + 1] && c[i] > eps) {
      sets.back().first = i;  // i joins the set of i + 1
    } else {
      sets.push_back({i, i});
    }
  }
  std::reverse(sets.begin(), sets.end());
  return sets;
}
// A threshold halfway between two neighbouring cosines (at quantile q): sets of mixed sizes, and
// no cosine so close to it that fp32 vs double could flip a merge.
double midEps(std::vector<double> c, double q) {
  std::sort(c.begin(), c.end());
  const size_t i = static_cast<size_t>(q * (c.size() - 1));
  EXPECT_GT(c[i + 1] - c[i], 1e-5) << "threshold too close to a cosine";
  return (c[i] + c[i + 1]) / 2;
}
struct RefMerge {
  int pivot;
  double sigma;
  std::vector<double> w;  // per member
};
RefMerge refGaussian(const Rows& k, const std::vector<double>& a, int first, int last, double sigma,
                     SigmaMode mode) {
  RefMerge r{first, mode == SigmaMode::kFixed ? sigma : 0.0, {}};
  for (int j = first; j <= last; ++j) r.pivot = a[j] > a[r.pivot] ? j : r.pivot;
  const int n = last - first + 1;
  std::vector<double> d2(n, 0.0);  // ||K[p] - K[j]||^2
  for (int j = first; j <= last; ++j) {
    for (size_t d = 0; d < k[j].size(); ++d) d2[j - first] += std::pow(k[r.pivot][d] - k[j][d], 2);
  }
  auto g = [&](int j, double s) { return std::exp(-d2[j] / (2 * s * s)); };
  for (int j = 0; j < n && mode != SigmaMode::kFixed; ++j) {  // mean distance, or literal (g at 1)
    r.sigma +=
        (mode == SigmaMode::kMeanDistance ? std::sqrt(d2[j]) : g(j, 1.0)) / std::sqrt(2.0) / n;
  }
  r.sigma = std::max(r.sigma, 1e-9);  // spec: guard sigma > 0 (a singleton's mean distance is 0)
  double total = 0;
  for (int j = 0; j < n; ++j) total += g(j, r.sigma);
  for (int j = 0; j < n; ++j) r.w.push_back(g(j, r.sigma) / total);
  return r;
}

void expectRowsNear(const at::Tensor& actual, const Rows& expected, const std::string& what) {
  const Rows got = rows(actual);  // [>= S, D]
  for (size_t s = 0; s < expected.size(); ++s) {
    for (size_t d = 0; d < expected[s].size(); ++d) {
      EXPECT_NEAR(got[s][d], expected[s][d], 1e-5) << what << " slot " << s << " dim " << d;
    }
  }
}

// One head after KVMerger against the reference: slots (first, last, pivot, count, attention),
// K* = sum w K and V* = (n or 1) * sum w V. pivotA chooses pivots (the layer mean when shared).
void expectMergedHead(const CompressionFixture& f, int l, int h,
                      const std::vector<MergingSet>& sets, const Rows& K, const Rows& V,
                      const std::vector<double>& pivotA, const std::vector<double>& ownA,
                      const CompressionParams& p) {
  const auto& slots = f.cache.cells(l, h);
  ASSERT_EQ(slots.size(), sets.size()) << "layer " << l << " head " << h;
  Rows keys, values;
  for (size_t s = 0; s < sets.size(); ++s) {
    const auto [first, last] = sets[s];
    const RefMerge m = refGaussian(K, pivotA, first, last, p.sigma, p.sigmaMode);
    const double scale = p.scaleValues ? last - first + 1 : 1.0;
    std::vector<double> key(K[0].size(), 0.0), value(K[0].size(), 0.0);
    double attention = 0;
    for (int j = first; j <= last; ++j) {
      const double w = m.w[j - first];
      for (size_t d = 0; d < key.size(); ++d)
        key[d] += w * K[j][d], value[d] += scale * w * V[j][d];
      attention += ownA[j];
    }
    keys.push_back(key), values.push_back(value);
    EXPECT_TRUE(slots[s].first == first && slots[s].last == last && slots[s].pivot == m.pivot &&
                slots[s].count == last - first + 1)
        << "slot " << s;
    EXPECT_NEAR(slots[s].attention, attention, 1e-9) << "slot " << s;
  }
  expectRowsNear(f.cache.keys(l)[h], keys, "keys");
  expectRowsNear(f.cache.values(l)[h], values, "values");
}

// keys (0,0), (1,0), (0,2): squared distances to the pivot 0, 1, 4. Hand numbers from
// g = exp(-d2 / (2 sigma^2)), w = g / sum g.
void checkGaussian(SigmaMode mode, double handSigma, const std::vector<double>& handWeights) {
  const at::Tensor keys = at::tensor({0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 2.0f}).view({3, 2});  // [3, 2]
  const std::vector<double> pivotFirst = {0.9, 0.5, 0.1};
  const RefMerge ref = refGaussian(rows(keys), pivotFirst, 0, 2, 1.0, mode);
  EXPECT_NEAR(ref.sigma, handSigma, 1e-6);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(ref.w[j], handWeights[j], 1e-6) << "member " << j;
  // The same with a tie for the pivot in the middle (distances 1, 0, 5): lowest index wins.
  for (const std::vector<double>& a : {pivotFirst, std::vector<double>{0.1, 0.9, 0.9}}) {
    const RefMerge r = refGaussian(rows(keys), a, 0, 2, 1.0, mode);
    const GaussianMerge m = gaussianMerge(keys, a, {0, 2}, 1.0, mode);
    EXPECT_EQ(m.pivot, r.pivot);
    EXPECT_NEAR(m.sigma, r.sigma, 1e-6);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(m.weights[j], r.w[j], 1e-6) << "member " << j;
  }
}

TEST(MethodReference, GaussianWeightsFixedSigma) {
  checkGaussian(SigmaMode::kFixed, 1.0, {0.574097, 0.348207, 0.077696});
}
TEST(MethodReference, GaussianWeightsMeanDistanceSigma) {
  // sigma = (0 + 1 + 2) / (sqrt(2) * 3) = 1/sqrt(2)
  checkGaussian(SigmaMode::kMeanDistance, 0.707107, {0.721399, 0.265388, 0.013213});
}
TEST(MethodReference, GaussianWeightsLiteralSigma) {
  // sigma = (1 + e^-0.5 + e^-2) / (sqrt(2) * 3), then g recomputed with it
  checkGaussian(SigmaMode::kLiteral, 0.410562, {0.951021, 0.048972, 0.0000067});
}

struct Case {          // a 2-layer, 2-head cache of 40 tokens with slowly drifting keys
  at::Tensor K, V, A;  // [L, Hkv, T, D], [L, Hkv, T, D], [L, Hkv, T]
};
Case makeCase(uint64_t seed) {  // a braced list runs left to right: K seeds V and A
  return {test::smoothKeys(2, 2, 40, 4, seed), at::randn({2, 2, 40, 4}), at::rand({2, 2, 40})};
}

// What the scan of (layer l, head h) sees: the head's own cosines [T-1] and attention [T], or
// (shared layout) their means over both heads.
struct RefInputs {
  std::vector<double> cos, a;
};
RefInputs refInputs(const Case& d, int l, int h, bool shared) {
  RefInputs in{std::vector<double>(39, 0.0), std::vector<double>(40, 0.0)};
  for (int k = shared ? 0 : h; k <= (shared ? 1 : h); ++k) {
    const std::vector<double> c = refCosine(rows(d.K[l][k])), a = vec(d.A[l][k]);
    for (int i = 0; i < 39; ++i) in.cos[i] += c[i] / (shared ? 2 : 1);
    for (int i = 0; i < 40; ++i) in.a[i] += a[i] / (shared ? 2 : 1);
  }
  return in;
}

// Compresses a Case with p (approximate budget: the sets are exactly the reference scan's at
// p.eps) and checks every (layer, head) against the reference.
void compressAndCheck(const Case& d, const CompressionParams& p, int recent, int heavy) {
  CompressionFixture f(compressionConfig(40), d.K, d.V, d.A);
  f.compress(p);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      const RefInputs in = refInputs(d, l, h, p.layout == MergeLayout::kSharedPerLayer);
      const auto sets = refScan(in.cos, refProtected(in.a, recent, heavy), p.eps);
      EXPECT_LT(sets.size(), 38u) << "the test needs merged sets";
      expectMergedHead(f, l, h, sets, rows(d.K[l][h]), rows(d.V[l][h]), in.a, vec(d.A[l][h]), p);
    }
  }
}

TEST(MethodReference, MergedKeyAndValueThroughThePolicy) {
  const Case d = makeCase(21);
  for (bool scale : {true, false}) {
    for (SigmaMode mode : {SigmaMode::kFixed, SigmaMode::kMeanDistance, SigmaMode::kLiteral}) {
      CompressionParams p = kvmerger(0.5);
      p.exactBudget = false, p.recentRatio = 0, p.protectedRatio = 0;  // nothing protected
      p.sigma = 0.3, p.sigmaMode = mode, p.scaleValues = scale;
      p.eps = midEps(refInputs(d, 0, 0, false).cos, 0.6);
      compressAndCheck(d, p, 0, 0);
    }
  }
}

TEST(MethodReference, SharedLayoutUsesHeadMeansOfCosineAndAttention) {
  const Case d = makeCase(22);
  CompressionParams p = kvmerger(0.5);
  p.layout = MergeLayout::kSharedPerLayer, p.exactBudget = false, p.sigma = 0.3;
  p.recentRatio = 0.1, p.protectedRatio = 0.05;  // 4 and 2 of 40
  p.eps = midEps(refInputs(d, 0, 0, true).cos, 0.5);
  compressAndCheck(d, p, 4, 2);
  // Both heads got the shared sets; per-head scans must differ between the heads, else a
  // per-head implementation would pass too.
  for (int l = 0; l < 2; ++l) {
    std::vector<int> firsts[2];
    for (int h = 0; h < 2; ++h) {
      const RefInputs in = refInputs(d, l, h, false);
      for (const MergingSet& s : refScan(in.cos, refProtected(in.a, 4, 2), p.eps)) {
        firsts[h].push_back(s.first);
      }
    }
    EXPECT_NE(firsts[0], firsts[1]) << "layer " << l << ": test data too weak";
  }
}

struct Taps : LayerObserver {
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    tensors[{layer, name}] = t.select(1, 0).clone();  // the one decoded token: [H, D]
  }
  std::map<std::pair<int, std::string>, at::Tensor> tensors;
};

TEST(MethodReference, LogBiasEntersTheDecodeAttention) {
  const ModelConfig c = test::tinyModelConfig(true);  // L = 2, Hq = 4, Hkv = 2, D = 4, 24 positions
  StackedWeights w = randomWeights(c, 24);
  for (at::Tensor* t : {&w.wq, &w.wk}) t->mul_(3.0);  // uneven attention
  const LlamaModel model(c, fuseWeights(c, w));
  KvCache cache = model.makeCache();
  AttentionTracker tracker(cache, 2, GqaReduction::kMean);
  std::vector<int> prompt;
  for (int i = 0; i < 20; ++i) prompt.push_back((i * 7 + 3) % c.vocabSize);
  model.forward(prompt, cache, LogitsMode::kLast, &tracker);
  CompressionParams p = kvmerger(0.5);
  p.logBias = true, p.scaleValues = false;
  makePolicy(p)->compress(cache);
  KvCache held = cache.clone();  // the compressed slots, before decoding appends
  Taps taps;
  model.forward({5}, cache, LogitsMode::kLast, &taps);
  held.beginAppend(1);    // a pending token: attentionMask shows the bias, [Hkv, 1, Smax + 1]
  double biasEffect = 0;  // largest change the bias makes, so the check is not vacuous
  for (int l = 0; l < 2; ++l) {
    const Rows q = rows(taps.tensors[{l, "q"}]), out = rows(taps.tensors[{l, "attn_out"}]);
    for (int qh = 0; qh < 4; ++qh) {  // q, out [Hq, D]; the new token's k, v [Hkv, D]
      const int h = qh / 2, S = held.slotCount(l, h);
      Rows K = rows(held.keys(l)[h].narrow(0, 0, S)), V = rows(held.values(l)[h].narrow(0, 0, S));
      std::vector<double> bias;  // log(n) per slot, 0 on the new token
      for (const Slot& s : held.cells(l, h)) bias.push_back(std::log(s.last - s.first + 1.0));
      K.push_back(rows(taps.tensors[{l, "k"}])[h]), V.push_back(rows(taps.tensors[{l, "v"}])[h]);
      bias.push_back(0.0);
      const std::vector<double> mask = vec(held.attentionMask(l, 1)[h][0]);
      for (int s = 0; s <= S; ++s) EXPECT_NEAR(mask[s], bias[s], 1e-6) << "slot " << s;
      for (bool withBias : {true, false}) {  // softmax(q K / sqrt(D) + bias) V, unnormalised
        std::vector<double> o(4, 0.0);
        double z = 0;
        for (size_t j = 0; j < K.size(); ++j) {
          const double e =
              std::exp(dot(q[qh], K[j]) / 2.0 + (withBias ? bias[j] : 0));  // sqrt(D) = 2
          z += e;
          for (int d = 0; d < 4; ++d) o[d] += e * V[j][d];
        }
        for (int d = 0; d < 4; ++d) {
          if (withBias) EXPECT_NEAR(out[qh][d], o[d] / z, 1e-4) << "layer " << l << " head " << qh;
          if (!withBias) biasEffect = std::max(biasEffect, std::abs(out[qh][d] - o[d] / z));
        }
      }
    }
  }
  EXPECT_GT(biasEffect, 1e-3);
}

TEST(MethodReference, CaMWindowIsClippedAtTheEndOfTheCache) {
  // T = 12, budget 6: 3 recent (9..11) + 3 heavy hitters, which with equal attention are 0..2.
  // Every evicted token 3..8 has only the 3 recent slots after it: m = min(window, 3), and
  // A[e] / mean(A[window]) = 1 merges it for any seed.
  const int T = 12;
  const at::Tensor V = at::randn({2, 1, T, 4});  // [L, Hkv, T, D]
  const std::vector<int> kept = {0, 1, 2, 9, 10, 11};
  for (int window : {2, 3, 5, 32}) {
    for (uint64_t seed : {0, 7}) {  // any seed: every merge probability is 1
      CompressionParams p;
      p.method = "cam", p.budgetTokens = 6, p.camWindow = window, p.seed = seed;
      CompressionFixture f(compressionConfig(T, 1), at::randn({2, 1, T, 4}), V,
                           at::ones({2, 1, T}));
      f.compress(p);
      for (int l = 0; l < 2; ++l) {
        std::vector<int> got;
        for (const Slot& s : f.cache.cells(l, 0)) got.push_back(s.first);
        ASSERT_EQ(got, kept);
        // By hand: kept rows; the first m = min(window, 3) recent ones get sum V[3..8] / m.
        at::Tensor expected = V[l][0].index_select(0, at::tensor(kept, at::kLong));  // [6, D]
        expected.narrow(0, 3, std::min(window, 3)) +=
            V[l][0].narrow(0, 3, 6).sum(0) / std::min(window, 3);
        EXPECT_TRUE(at::allclose(f.cache.values(l)[0].narrow(0, 0, 6), expected, 1e-5, 1e-6))
            << "window " << window << " layer " << l;
      }
    }
  }
}

TEST(MethodReference, GqaReductionsChooseTheirOwnHeavyHitters) {
  const int T = 8;  // Hq = 4, Hkv = 2, G = 2, D = 4; budget 4 = 2 recent (6, 7) + 2 heavy hitters
  const ModelConfig c = test::tinyModelConfig(true);
  // Attention each query head pays each token (summed over queries). KV head 0 = query heads 0, 1:
  // mean/sum keep {0, 2}, max {0, 1}; KV head 1 = query heads 2, 3: mean/sum {3, 5}, max {0, 3}.
  // Mean and sum rank alike (sum = G * mean): only the accumulated values tell them apart.
  const at::Tensor perHead = at::tensor({0.9, 0.1, 0.5, 0.0, 0.3, 0.2,  0.3, 0.3,  //
                                         0.0, 0.6, 0.5, 0.0, 0.3, 0.2,  0.3, 0.3,  //
                                         0.2, 0.0, 0.0, 0.8, 0.1, 0.4,  0.3, 0.3,  //
                                         0.5, 0.0, 0.0, 0.0, 0.1, 0.45, 0.3, 0.3},
                                        at::kFloat)
                                 .view({4, T});
  const std::vector<int> hand[2][2] = {{{0, 2, 6, 7}, {3, 5, 6, 7}},   // [mean or sum][h]
                                       {{0, 1, 6, 7}, {0, 3, 6, 7}}};  // [max][h]
  // probs [L][Hq, Tq = 2, T]: the two queries pay 1/4 and 3/4; layer 1 reverses the query heads,
  // so its KV head h sees what layer 0's KV head 1 - h sees.
  const at::Tensor probs0 = at::stack({0.25 * perHead, 0.75 * perHead}, 1);
  const at::Tensor probs[2] = {probs0, probs0.flip(0)};
  const at::Tensor K = at::randn({2, 2, T, 4}), V = at::randn({2, 2, T, 4});  // [L, Hkv, T, D]
  for (GqaReduction reduction : {GqaReduction::kMean, GqaReduction::kSum, GqaReduction::kMax}) {
    const auto& handKept = hand[reduction == GqaReduction::kMax];
    Rows a[2];  // the reduced accumulated attention [L][Hkv][T], by plain loops over probs
    for (int l = 0; l < 2; ++l) {
      const Rows perQuery = rows(probs[l].sum(1));  // [Hq, T], summed over the queries
      for (int h = 0; h < 2; ++h) {
        a[l].emplace_back();
        for (int j = 0; j < T; ++j) {
          const double x0 = perQuery[2 * h][j], x1 = perQuery[2 * h + 1][j];
          a[l][h].push_back(reduction == GqaReduction::kMean  ? (x0 + x1) / 2
                            : reduction == GqaReduction::kSum ? x0 + x1
                                                              : std::max(x0, x1));
        }
      }
    }
    for (const std::string& method : {"h2o", "cam"}) {
      CompressionFixture f(c, K, V, at::zeros({2, 2, T}));
      AttentionTracker tracker(f.cache, 2, reduction);  // onto the fixture's zero attention
      for (int l = 0; l < 2; ++l) tracker.onTensor(l, "attn", probs[l]);
      CompressionParams p;
      p.method = method, p.budgetTokens = 4, p.gqaReduction = reduction;
      f.compress(p);
      for (int l = 0; l < 2; ++l) {
        for (int h = 0; h < 2; ++h) {
          const std::vector<char> keep = refProtected(a[l][h], 2, 2);
          std::vector<int> kept;
          for (int j = 0; j < T; ++j) kept.insert(kept.end(), keep[j], j);
          EXPECT_EQ(kept, handKept[l == 0 ? h : 1 - h]) << toString(reduction);
          std::vector<int> got;
          for (const Slot& s : f.cache.cells(l, h)) got.push_back(s.first);
          ASSERT_EQ(got, kept) << toString(reduction) << " " << method;
          for (size_t s = 0; s < kept.size(); ++s) {
            EXPECT_NEAR(f.cache.cells(l, h)[s].attention, a[l][h][kept[s]], 1e-6);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace kvs
