#pragma once
// PrefillState: a prompt's full prefill, kept so that every compression setting, similarity view
// and merging layout starts from it without running the prompt again (architecture.md: "prefill
// is never repeated to try a new setting"). Owned by one thread; never crosses into the UI.

#include <ATen/core/Tensor.h>

#include <array>
#include <functional>
#include <vector>

#include "cache/kv_cache.h"
#include "compress/compression_params.h"

namespace kvs {

class LlamaModel;
class LayerObserver;

struct PrefillState {
  std::vector<int> promptIds;  // BOS included, T of them
  // The full cache (keys after RoPE and values, [Hkv, T, D] per layer) once per GqaReduction
  // (mean, sum, max): the three share their storage and differ only in their cells' accumulated
  // attention, so the reduction is a parameter like any other.
  std::array<KvCache, 3> caches;
  at::Tensor lastLogits;                // [V] of the last prompt token
  std::vector<at::Tensor> keysPreRope;  // [L] of [Hkv, T, D]
  std::vector<at::Tensor> attention;    // [L] of [Hq, T, T]; empty when over the memory limit
  // c[i] = cos(K[i], K[i+1]) of the keys after RoPE, [L][Hkv][T-1]: merging sets are found from
  // these alone, so a new eps needs no tensor work.
  std::vector<std::vector<std::vector<float>>> adjacentCos;
  double prefillSeconds = 0;

  int tokens() const { return static_cast<int>(promptIds.size()); }
  const KvCache& cache(GqaReduction r = GqaReduction::kMean) const {
    return caches[static_cast<int>(r)];
  }
};

// The prompt's accumulated attention under every GqaReduction, gathered from the "attn" taps of
// the one forward pass of a prefill ([Hq, T, T] per layer) and set into the state's caches after
// it: caches[0] holds the prompt, the other two become copies sharing its storage.
class PromptAttention {
 public:
  explicit PromptAttention(int groupSize) : groupSize_(groupSize) {}
  void add(int layer, const at::Tensor& attention);
  void install(PrefillState& state) const;

 private:
  int groupSize_;
  std::array<std::vector<at::Tensor>, 3> perLayer_;  // [reduction][L] of [Hkv, T]
};

// Called once per layer of the prefill; false cancels (KvsError "cancelled").
using KeepGoing = std::function<bool()>;

// Runs the prompt once, keeping everything above. The per-layer attention matrices are kept only
// when they take at most attentionLimitBytes in all. observer (e.g. an Hdf5Recorder) sees the
// same taps after the state's own.
PrefillState prefillPrompt(const LlamaModel& model, const std::vector<int>& promptIds,
                           const KeepGoing& keepGoing = {},
                           int64_t attentionLimitBytes = int64_t(256) << 20,
                           LayerObserver* observer = nullptr);

}  // namespace kvs
