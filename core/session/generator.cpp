#include "session/generator.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "cache/kv_cache.h"
#include "model/llama_model.h"
#include "util/error.h"

namespace kvs {
namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* toString(StopReason reason) {
  switch (reason) {
    case StopReason::kSteps:
      return "steps";
    case StopReason::kStopToken:
      return "stop_token";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

void validateRequest(const LlamaModel& model, const GenerationRequest& request) {
  const int context = model.config().seqLen;
  const int P = static_cast<int>(request.promptIds.size());
  require(P > 0, "the prompt has no tokens (not even BOS)");
  require(P <= context, "the prompt is " + std::to_string(P) +
                            " tokens but the model's context is " + std::to_string(context) +
                            " positions; shorten the prompt");
  require(request.steps <= context,
          "steps " + std::to_string(request.steps) + " exceeds the model's context of " +
              std::to_string(context) + " positions; use " + std::to_string(context) + " or less");
  require(request.steps >= P, "steps " + std::to_string(request.steps) +
                                  " is less than the prompt's " + std::to_string(P) +
                                  " tokens (steps count the prompt's positions too); use " +
                                  std::to_string(P) + " or more");
  Sampler check(request.sampling);  // throws on bad sampling parameters
}

GenerationResult generate(const LlamaModel& model, KvCache& cache, const GenerationRequest& request,
                          const TokenCallback& onToken, LayerObserver* observer,
                          const std::function<void()>& afterPrefill,
                          const std::function<void()>& afterStep) {
  validateRequest(model, request);
  cache.clear();
  Sampler sampler(request.sampling);
  GenerationResult result;
  auto isStop = [&](int t) {
    return std::find(request.stopIds.begin(), request.stopIds.end(), t) != request.stopIds.end();
  };
  // Returns false when generation must end after token t.
  auto emit = [&](int t) {
    result.generatedIds.push_back(t);
    if (onToken && !onToken(t)) {
      result.stopReason = StopReason::kCancelled;
      return false;
    }
    if (isStop(t)) {
      result.stopReason = StopReason::kStopToken;
      return false;
    }
    return true;
  };

  auto start = std::chrono::steady_clock::now();
  at::Tensor logits = model.forward(request.promptIds, cache, LogitsMode::kLast, observer);
  int token = sampler.sample(logits);
  result.prefillSeconds = secondsSince(start);
  if (afterPrefill) afterPrefill();
  if (!emit(token)) return result;

  start = std::chrono::steady_clock::now();
  for (int pos = static_cast<int>(request.promptIds.size()); pos < request.steps; ++pos) {
    logits = model.forward({token}, cache, LogitsMode::kLast, observer);
    token = sampler.sample(logits);
    if (afterStep) afterStep();
    ++result.decodeForwardPasses;
    result.decodeSeconds = secondsSince(start);
    if (!emit(token)) return result;
  }
  result.decodeSeconds = secondsSince(start);
  return result;
}

}  // namespace kvs
