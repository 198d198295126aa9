#pragma once
// The paper's two observations as numbers: merging sets of one (layer, KV head) for a threshold
// and protected fractions, the per-layer compression ratio they imply, and its spread over a batch
// of prompts (kvmerger-spec.md section 1).

#include <ATen/core/Tensor.h>

#include <vector>

#include "compress/merging_sets.h"

namespace kvs {

struct MergeThresholds {
  double eps = 0.75;             // adjacent cosine must exceed eps to merge (strict >)
  double recentRatio = 0.17;     // most recent tokens never merged, as a fraction of T
  double protectedRatio = 0.12;  // top-attention tokens never merged (needs attention)
};

struct HeadSets {
  std::vector<float> adjacent;    // [T-1] cos(K[i], K[i+1])
  std::vector<char> isProtected;  // [T]
  std::vector<MergingSet> sets;   // token order, covering 0 .. T-1
  int tokens = 0;                 // T

  // Slots after merging / T.
  double keptFraction() const { return tokens ? double(sets.size()) / tokens : 1.0; }
};

// keys: [T, D]; attention: [T] accumulated attention, or empty (then no heavy hitters are
// protected, only the recent tokens).
HeadSets identifyHeadSets(const at::Tensor& keys, const std::vector<double>& attention,
                          const MergeThresholds& t);

// Compression ratio of a layer: 1 - (slots after merging / T), the mean over its KV heads.
// keys: [Hkv, T, D]; attention: per KV head [T], or empty.
double layerCompressionRatio(const at::Tensor& keys,
                             const std::vector<std::vector<double>>& attention,
                             const MergeThresholds& t);

// Accumulated attention per KV head from softmax attention [Hq, Tq, Tk]: summed over the queries,
// averaged over the G query heads of a KV head. Returns [Hkv][Tk].
std::vector<std::vector<double>> accumulatedAttention(const at::Tensor& probs, int kvHeads);

struct LayerSpread {
  std::vector<double> mean, stddev, min, max;  // per layer, over prompts
};

// ratios[prompt][layer] -> per-layer statistics (population standard deviation).
LayerSpread summarizeLayers(const std::vector<std::vector<double>>& ratios);

}  // namespace kvs
