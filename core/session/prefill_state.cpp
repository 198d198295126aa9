#include "session/prefill_state.h"

#include <ATen/ATen.h>

#include <chrono>

#include "cache/attention_tracker.h"
#include "compress/merging_sets.h"
#include "model/llama_model.h"
#include "model/observer_list.h"
#include "session/request.h"
#include "util/error.h"

namespace kvs {
namespace {

// Copies the taps a PrefillState keeps, feeds the three attention trackers, and cancels between
// layers (throwing out of the forward pass; the half-built state is discarded).
class PrefillRecorder : public LayerObserver {
 public:
  PrefillRecorder(PrefillState& state, int groupSize, bool keepAttention, const KeepGoing& go)
      : state_(state), keepAttention_(keepAttention), keepGoing_(go) {
    trackers_.reserve(3);
    for (int r = 0; r < 3; ++r) {
      trackers_.emplace_back(state.maps[r], groupSize, static_cast<GqaReduction>(r));
    }
  }

  void beginForward(int firstPos, int n) override {
    for (auto& t : trackers_) t.beginForward(firstPos, n);
  }

  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override {
    if (name == "k_prerope") {
      if (keepGoing_ && !keepGoing_()) throw KvsError("cancelled");
      state_.keysPreRope.push_back(tensor.to(at::kCPU, at::kFloat).clone());  // [Hkv, T, D]
    } else if (name == "attn") {
      for (auto& t : trackers_) t.onTensor(layer, name, tensor);
      if (keepAttention_) state_.attention.push_back(tensor.to(at::kCPU, at::kFloat).clone());
    }
  }

  bool wantsAttention() const override { return true; }

 private:
  PrefillState& state_;
  bool keepAttention_;
  const KeepGoing& keepGoing_;
  std::vector<AttentionTracker> trackers_;
};

}  // namespace

PrefillState prefillPrompt(const LlamaModel& model, const std::vector<int>& promptIds,
                           const KeepGoing& keepGoing, int64_t attentionLimitBytes,
                           LayerObserver* observer) {
  const ModelConfig& c = model.config();
  const int T = static_cast<int>(promptIds.size());
  requirePromptFits(T, c.seqLen);
  PrefillState state{promptIds, model.makeCache(), {}, {}, {}, {}, {}, 0};
  for (auto& m : state.maps) m.reset(c.nLayers, c.nKvHeads);
  const int64_t attentionBytes = int64_t(c.nLayers) * c.nHeads * T * T * 4;
  PrefillRecorder recorder(state, c.groupSize(), attentionBytes <= attentionLimitBytes, keepGoing);
  ObserverList observers({&recorder, observer});

  const auto start = std::chrono::steady_clock::now();
  state.lastLogits = model.forward(promptIds, state.cache, LogitsMode::kLast, &observers);
  state.prefillSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor keys = state.cache.keys(l);  // [Hkv, T, D]
    std::vector<std::vector<float>> heads;
    for (int h = 0; h < c.nKvHeads; ++h) heads.push_back(adjacentCosine(keys[h]));
    state.adjacentCos.push_back(std::move(heads));
  }
  return state;
}

}  // namespace kvs
