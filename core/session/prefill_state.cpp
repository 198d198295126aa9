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

// Copies the taps a PrefillState keeps, gathers the prompt's attention, and cancels between
// layers (throwing out of the forward pass; the half-built state is discarded).
class PrefillRecorder : public LayerObserver {
 public:
  PrefillRecorder(PrefillState& state, PromptAttention& gathered, bool keepAttention,
                  const KeepGoing& go)
      : state_(state), gathered_(gathered), keepAttention_(keepAttention), keepGoing_(go) {}

  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override {
    if (name == "k_prerope") {
      if (keepGoing_ && !keepGoing_()) throw KvsError("cancelled");
      state_.keysPreRope.push_back(tensor.to(at::kCPU, at::kFloat).clone());  // [Hkv, T, D]
    } else if (name == "attn") {
      gathered_.add(layer, tensor);
      if (keepAttention_) state_.attention.push_back(tensor.to(at::kCPU, at::kFloat).clone());
    }
  }

  bool wantsAttention() const override { return true; }

 private:
  PrefillState& state_;
  PromptAttention& gathered_;
  bool keepAttention_;
  const KeepGoing& keepGoing_;
};

}  // namespace

void PromptAttention::add(int layer, const at::Tensor& attention) {
  for (int r = 0; r < 3; ++r) {
    auto& layers = perLayer_[r];
    if (static_cast<int>(layers.size()) <= layer) layers.resize(layer + 1);
    layers[layer] = reduceAttention(attention, groupSize_, static_cast<GqaReduction>(r));
  }
}

void PromptAttention::install(PrefillState& state) const {
  for (int r = 1; r < 3; ++r) state.caches[r] = state.caches[0];  // shares the storage
  for (int r = 0; r < 3; ++r) {
    for (size_t l = 0; l < perLayer_[r].size(); ++l) {
      if (perLayer_[r][l].defined()) state.caches[r].setAttention(int(l), perLayer_[r][l]);
    }
  }
}

PrefillState prefillPrompt(const LlamaModel& model, const std::vector<int>& promptIds,
                           const KeepGoing& keepGoing, int64_t attentionLimitBytes,
                           LayerObserver* observer) {
  const ModelConfig& c = model.config();
  const int T = static_cast<int>(promptIds.size());
  requirePromptFits(T, c.seqLen);
  PrefillState state{
      promptIds, {model.makeCache(), model.makeCache(), model.makeCache()}, {}, {}, {}, {}, 0};
  const int64_t attentionBytes = int64_t(c.nLayers) * c.nHeads * T * T * 4;
  PromptAttention gathered(c.groupSize());
  PrefillRecorder recorder(state, gathered, attentionBytes <= attentionLimitBytes, keepGoing);
  ObserverList observers({&recorder, observer});

  const auto start = std::chrono::steady_clock::now();
  state.lastLogits = model.forward(promptIds, state.caches[0], LogitsMode::kLast, &observers);
  state.prefillSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  gathered.install(state);

  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor keys = state.cache().keys(l);  // [Hkv, T, D]
    std::vector<std::vector<float>> heads;
    for (int h = 0; h < c.nKvHeads; ++h) heads.push_back(adjacentCosine(keys[h]));
    state.adjacentCos.push_back(std::move(heads));
  }
  return state;
}

}  // namespace kvs
