#include "session/comparison.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "compress/decode_compressor.h"
#include "model/llama_model.h"
#include "model/observer_list.h"
#include "session/prefill_state.h"
#include "util/error.h"

namespace kvs {
namespace {

struct Prefilled {
  KvCache cache;
  SlotMap map;
  at::Tensor logits;  // [V] of the last prompt token
};

struct Decoded {
  std::vector<int> ids;              // chosen tokens (greedy, or the forced ones)
  std::vector<at::Tensor> logProbs;  // [V] per step, CPU
};

// Decodes from a state (consumed): the first token comes from the prefill logits; then steps - P
// forward passes, accumulating attention into the state's own SlotMap. With `forced`, token t is
// forced[t] instead of the argmax.
Decoded decode(const LlamaModel& model, Prefilled& state, int promptTokens, int steps,
               const std::vector<int>* forced, const CompressionParams& params,
               LayerObserver* extra = nullptr, const std::function<void(int)>& onToken = {}) {
  Decoded out;
  AttentionTracker trackerOwn(state.map, model.config().groupSize(), params.gqaReduction);
  ObserverList observers({params.method == Method::kFull ? nullptr : &trackerOwn, extra});
  LayerObserver* tracker = observers.empty() ? nullptr : &observers;
  DecodeCompressor compressor(params);
  compressor.start(state.cache);
  at::Tensor logits = state.logits;
  for (int pos = promptTokens;; ++pos) {
    const at::Tensor logProbs = at::log_softmax(logits.to(at::kCPU, at::kDouble), 0);
    out.logProbs.push_back(logProbs);
    const size_t t = out.ids.size();
    const int token = forced ? (*forced)[t] : static_cast<int>(logits.argmax().item<int64_t>());
    out.ids.push_back(token);
    if (onToken) onToken(token);
    if (pos >= steps || (forced && t + 1 >= forced->size())) break;
    logits = model.forward({token}, state.cache, LogitsMode::kLast, tracker);
    compressor.afterStep(state.cache, state.map);
  }
  return out;
}

// A fresh copy of the prompt's prefilled state, with accumulated attention under a reduction.
using PrefilledSource = std::function<Prefilled(GqaReduction)>;

std::vector<VariantOutcome> compareFrom(const LlamaModel& model, int P, int steps,
                                        const std::vector<CompressionParams>& variants,
                                        const Progress& progress, const ComparisonHooks& hooks,
                                        const PrefilledSource& start, int64_t fullBytes) {
  const ModelConfig& c = model.config();
  Prefilled referenceState = start(GqaReduction::kMean);
  const Decoded reference = decode(model, referenceState, P, steps, nullptr, CompressionParams{},
                                   hooks.referenceObserver, hooks.onReferenceToken);
  std::vector<VariantOutcome> outcomes;
  VariantOutcome full;
  full.generatedIds = reference.ids;
  full.kvBytes = full.kvBytesFull = fullBytes;
  if (hooks.keepSlotMaps) {
    full.slotMap = referenceState.map;
    full.slotMap.appendTokens(P, referenceState.cache.length() - P);  // untracked decode steps
  }
  outcomes.push_back(full);
  const int total = static_cast<int>(variants.size());
  for (int v = 0; v < total; ++v) {
    const auto begin = std::chrono::steady_clock::now();
    VariantOutcome out;
    out.params = variants[v];
    // The GQA reduction of accumulated attention is a variant's parameter.
    Prefilled state = start(out.params.gqaReduction);
    if (const auto policy = makePolicy(out.params)) {
      policy->compress(state.cache, state.map);
    }
    out.kvBytes = state.cache.bytes();
    out.kvBytesFull = state.cache.fullBytes();
    out.achievedRatio = double(state.cache.totalSlots()) / (double(c.nLayers) * c.nKvHeads * P);
    out.decisions = state.map.decisions;
    out.decisions.resize(c.nLayers, std::vector<HeadDecision>(c.nKvHeads));

    Prefilled forcedState{state.cache.clone(), state.map, state.logits};
    out.generatedIds = decode(model, state, P, steps, nullptr, out.params).ids;
    if (hooks.keepSlotMaps) out.slotMap = state.map;
    const Decoded forced = decode(model, forcedState, P, steps, &reference.ids, out.params);

    // Step 0 comes from the full prefill in every variant; the metrics start after it.
    const size_t n = reference.ids.size() - 1;
    int agree = 0;
    for (size_t t = 1; t <= n; ++t) {
      const at::Tensor& ref = reference.logProbs[t];
      const at::Tensor& var = forced.logProbs[t];
      const double kl = (ref.exp() * (ref - var)).sum().item<double>();
      out.meanKl += kl / n;
      out.maxKl = std::max(out.maxKl, kl);
      agree += var.argmax().item<int64_t>() == reference.ids[t];
      out.nll -= var[reference.ids[t]].item<double>() / n;
    }
    out.top1Agreement = n > 0 ? double(agree) / n : 1.0;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    outcomes.push_back(std::move(out));
    if (progress && !progress(v + 1, total)) throw KvsError("cancelled");
  }
  // The full cache's own NLL of its continuation, for reference.
  const size_t n = reference.ids.size() - 1;
  for (size_t t = 1; t <= n; ++t) {
    outcomes[0].nll -= reference.logProbs[t][reference.ids[t]].item<double>() / n;
  }
  return outcomes;
}

void validateComparison(const LlamaModel& model, int P, int steps,
                        const std::vector<CompressionParams>& variants) {
  for (const auto& p : variants) p.validate();
  const int context = model.config().seqLen;
  require(P <= context && steps >= P && steps <= context,
          "steps must be between the prompt's " + std::to_string(P) +
              " tokens and the model's context of " + std::to_string(context));
}

}  // namespace

std::vector<VariantOutcome> compareVariants(const LlamaModel& model,
                                            const std::vector<int>& promptIds, int steps,
                                            const std::vector<CompressionParams>& variants,
                                            const Progress& progress,
                                            const ComparisonHooks& hooks) {
  const int P = static_cast<int>(promptIds.size());
  validateComparison(model, P, steps, variants);
  const ModelConfig& c = model.config();
  // Prefill once, tracking attention for the policies that need it.
  auto prefill = [&](GqaReduction reduction, LayerObserver* extra) {
    Prefilled state{model.makeCache(), {}, {}};
    state.map.reset(c.nLayers, c.nKvHeads);
    AttentionTracker tracker(state.map, c.groupSize(), reduction);
    ObserverList observers({&tracker, extra});
    state.logits = model.forward(promptIds, state.cache, LogitsMode::kLast, &observers);
    return state;
  };
  const Prefilled base = prefill(GqaReduction::kMean, hooks.referenceObserver);
  const PrefilledSource start = [&](GqaReduction reduction) {
    // Another reduction needs the prompt's attention again: prefill once more.
    if (reduction != GqaReduction::kMean) return prefill(reduction, nullptr);
    return Prefilled{base.cache.clone(), base.map, base.logits};
  };
  return compareFrom(model, P, steps, variants, progress, hooks, start, base.cache.fullBytes());
}

std::vector<VariantOutcome> compareVariants(const LlamaModel& model, const PrefillState& state,
                                            int steps,
                                            const std::vector<CompressionParams>& variants,
                                            const Progress& progress,
                                            const ComparisonHooks& hooks) {
  validateComparison(model, state.tokens(), steps, variants);
  const PrefilledSource start = [&](GqaReduction reduction) {
    return Prefilled{state.cache.clone(), state.map(reduction), state.lastLogits};
  };
  return compareFrom(model, state.tokens(), steps, variants, progress, hooks, start,
                     state.cache.fullBytes());
}

}  // namespace kvs
