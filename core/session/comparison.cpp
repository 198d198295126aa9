#include "session/comparison.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>

#include "model/llama_model.h"
#include "session/compression_report.h"
#include "session/decode.h"
#include "session/prefill_state.h"
#include "util/error.h"

namespace kvs {
namespace {

// A fresh copy of the prompt's prefilled state, with accumulated attention under a reduction.
using StartSource = std::function<DecodeStart(GqaReduction)>;

// Greedy to the steps, no stop tokens: every variant decodes the same positions.
GenerationRequest comparisonRequest(const LlamaModel& model, const std::vector<int>& promptIds,
                                    int steps, const std::vector<CompressionParams>& variants) {
  for (const auto& p : variants) p.validate();
  GenerationRequest request;
  request.promptIds = promptIds;
  request.steps = steps;
  request.sampling.temperature = 0.0f;
  validateRequest(model, request);
  return request;
}

std::vector<VariantOutcome> compareFrom(const LlamaModel& model, const GenerationRequest& request,
                                        const std::vector<CompressionParams>& variants,
                                        const Progress& progress, const ComparisonHooks& hooks,
                                        const StartSource& start) {
  DecodeHooks referenceHooks;
  referenceHooks.observer = hooks.referenceObserver;
  if (hooks.onReferenceToken) {
    referenceHooks.onToken = [&](int token) {
      hooks.onReferenceToken(token);
      return true;
    };
  }
  referenceHooks.keepLogProbs = true;
  DecodeResult reference =
      decode(model, start(GqaReduction::kMean), request, CompressionParams{}, referenceHooks);
  std::vector<VariantOutcome> outcomes;
  VariantOutcome full;
  full.generatedIds = reference.generatedIds;
  full.kvBytes = full.kvBytesFull = reference.compression.fullBytes;
  if (hooks.keepCells) full.cells = std::move(reference.cells);
  outcomes.push_back(full);

  // Step 0 comes from the full prefill in every variant; the metrics start after it.
  const std::vector<int>& ids = reference.generatedIds;
  const size_t n = ids.size() - 1;
  DecodeHooks forcedHooks;
  forcedHooks.forced = &ids;
  forcedHooks.keepLogProbs = true;
  const int total = static_cast<int>(variants.size());
  for (int v = 0; v < total; ++v) {
    const auto begin = std::chrono::steady_clock::now();
    VariantOutcome out;
    out.params = variants[v];
    // The GQA reduction of accumulated attention is a variant's parameter.
    DecodeStart state = start(out.params.gqaReduction);
    const CompressionReport& report = compressPrompt(state, out.params);
    out.kvBytes = report.bytes;
    out.kvBytesFull = report.fullBytes;
    out.achievedRatio = report.achievedRatio;
    out.decisions = report.decisions;

    DecodeStart forcedState = state.clone();
    DecodeResult own = decode(model, std::move(state), request, out.params);
    out.generatedIds = std::move(own.generatedIds);
    if (hooks.keepCells) out.cells = std::move(own.cells);
    const DecodeResult forced =
        decode(model, std::move(forcedState), request, out.params, forcedHooks);

    int agree = 0;
    for (size_t t = 1; t <= n; ++t) {
      const at::Tensor& ref = reference.logProbs[t];
      const at::Tensor& var = forced.logProbs[t];
      const double kl = (ref.exp() * (ref - var)).sum().item<double>();
      out.meanKl += kl / n;
      out.maxKl = std::max(out.maxKl, kl);
      agree += var.argmax().item<int64_t>() == ids[t];
      out.nll -= var[ids[t]].item<double>() / n;
    }
    out.top1Agreement = n > 0 ? double(agree) / n : 1.0;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    outcomes.push_back(std::move(out));
    if (progress && !progress(v + 1, total)) throw KvsError("cancelled");
  }
  // The full cache's own NLL of its continuation, for reference.
  for (size_t t = 1; t <= n; ++t) {
    outcomes[0].nll -= reference.logProbs[t][ids[t]].item<double>() / n;
  }
  return outcomes;
}

}  // namespace

std::vector<VariantOutcome> compareVariants(const LlamaModel& model,
                                            const std::vector<int>& promptIds, int steps,
                                            const std::vector<CompressionParams>& variants,
                                            const Progress& progress,
                                            const ComparisonHooks& hooks) {
  const GenerationRequest request = comparisonRequest(model, promptIds, steps, variants);
  // Prefill once, tracking attention for the policies that need it.
  const DecodeStart base =
      prefillStart(model, promptIds, GqaReduction::kMean, /*track=*/true, hooks.referenceObserver);
  const StartSource start = [&](GqaReduction reduction) {
    // Another reduction needs the prompt's attention again: prefill once more.
    if (reduction != GqaReduction::kMean) return prefillStart(model, promptIds, reduction, true);
    return base.clone();
  };
  return compareFrom(model, request, variants, progress, hooks, start);
}

std::vector<VariantOutcome> compareVariants(const LlamaModel& model, const PrefillState& state,
                                            int steps,
                                            const std::vector<CompressionParams>& variants,
                                            const Progress& progress,
                                            const ComparisonHooks& hooks) {
  const GenerationRequest request = comparisonRequest(model, state.promptIds, steps, variants);
  const StartSource start = [&](GqaReduction reduction) { return startFrom(state, reduction); };
  return compareFrom(model, request, variants, progress, hooks, start);
}

nlohmann::json variantFiguresJson(const VariantOutcome& v) {
  return {{"mean_kl", v.meanKl},
          {"max_kl", v.maxKl},
          {"top1_agreement", v.top1Agreement},
          {"nll", v.nll},
          {"kv_bytes", v.kvBytes},
          {"kv_bytes_full", v.kvBytesFull},
          {"achieved_ratio", v.achievedRatio},
          {"eps_used", epsUsed(v.decisions)},
          {"protected_released", protectedReleased(v.decisions)},
          {"seconds", v.seconds}};
}

}  // namespace kvs
