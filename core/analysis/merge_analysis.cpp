#include "analysis/merge_analysis.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace kvs {

HeadSets identifyHeadSets(const at::Tensor& keys, const std::vector<double>& attention,
                          const MergeThresholds& t) {
  TORCH_CHECK(keys.dim() == 2, "identifyHeadSets: keys must be [T, D]");
  HeadSets h;
  h.tokens = static_cast<int>(keys.size(0));
  require(attention.empty() || int(attention.size()) == h.tokens,
          "attention has " + std::to_string(attention.size()) + " entries for " +
              std::to_string(h.tokens) + " tokens");
  h.adjacent = adjacentCosine(keys);
  const int recent = static_cast<int>(std::lround(t.recentRatio * h.tokens));
  const int heavy =
      attention.empty() ? 0 : static_cast<int>(std::lround(t.protectedRatio * h.tokens));
  const std::vector<double> scores =
      attention.empty() ? std::vector<double>(h.tokens, 0.0) : attention;
  // The policy's own decision, at the paper's fixed eps (the approximate budget).
  SetDecision d = decideMergingSets(h.adjacent, scores, recent, heavy, h.tokens, false, t.eps);
  h.isProtected = std::move(d.isProtected);
  h.sets = std::move(d.sets);
  return h;
}

double layerCompressionRatio(const at::Tensor& keys,
                             const std::vector<std::vector<double>>& attention,
                             const MergeThresholds& t) {
  TORCH_CHECK(keys.dim() == 3 && keys.size(0) > 0,
              "layerCompressionRatio: keys must be [Hkv, T, D] with Hkv > 0");
  const int64_t Hkv = keys.size(0);
  TORCH_CHECK(attention.empty() || int64_t(attention.size()) == Hkv,
              "layerCompressionRatio: attention must hold one row per KV head");
  double kept = 0;
  for (int64_t h = 0; h < Hkv; ++h) {
    kept += identifyHeadSets(keys[h], attention.empty() ? std::vector<double>{} : attention[h], t)
                .keptFraction();
  }
  return 1.0 - kept / double(Hkv);
}

std::vector<std::vector<double>> accumulatedAttention(const at::Tensor& probs, int kvHeads) {
  // kvHeads is checked before it divides anything (0 would raise SIGFPE). Recordings are
  // validated when read (RecordingReader), so this only catches a caller's mistake.
  TORCH_CHECK(kvHeads > 0 && probs.dim() == 3 && probs.size(0) % kvHeads == 0,
              "accumulatedAttention: probs must be [Hq, Tq, Tk] with Hq a positive multiple of "
              "Hkv = ",
              kvHeads);
  const int64_t G = probs.size(0) / kvHeads, Tk = probs.size(2);
  const at::Tensor perKv =
      probs.to(at::kDouble).sum(1).view({kvHeads, G, Tk}).mean(1).contiguous();  // [Hkv, Tk]
  std::vector<std::vector<double>> out(kvHeads);
  for (int h = 0; h < kvHeads; ++h) {
    const double* row = perKv[h].data_ptr<double>();
    out[h].assign(row, row + Tk);
  }
  return out;
}

LayerSpread summarizeLayers(const std::vector<std::vector<double>>& ratios) {
  LayerSpread s;
  if (ratios.empty()) return s;
  const size_t L = ratios[0].size();
  for (const auto& r : ratios) {
    require(r.size() == L, "every prompt needs a ratio for each of the " + std::to_string(L) +
                               " layers (recordings of different models?)");
  }
  for (size_t l = 0; l < L; ++l) {
    double sum = 0, lo = ratios[0][l], hi = ratios[0][l];
    for (const auto& r : ratios) {
      sum += r[l];
      lo = std::min(lo, r[l]);
      hi = std::max(hi, r[l]);
    }
    const double mean = sum / ratios.size();
    double var = 0;
    for (const auto& r : ratios) var += (r[l] - mean) * (r[l] - mean);
    s.mean.push_back(mean);
    s.stddev.push_back(std::sqrt(var / ratios.size()));
    s.min.push_back(lo);
    s.max.push_back(hi);
  }
  return s;
}

}  // namespace kvs
