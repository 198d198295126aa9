#include "session/variant_from_state.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "cache/attention_tracker.h"
#include "compress/compression_policy.h"
#include "compress/decode_compressor.h"
#include "model/llama_model.h"
#include "model/observer_list.h"
#include "model/sampler.h"
#include "util/error.h"

namespace kvs {

StateVariantResult runVariantFromState(const LlamaModel& model, const PrefillState& state,
                                       const GenerationRequest& request,
                                       const CompressionParams& params,
                                       const TokenCallback& onToken, const KeepGoing& keepGoing,
                                       LayerObserver* extra) {
  const auto policy = makePolicy(params);  // validates params before any work
  require(request.promptIds == state.promptIds, "the request's prompt is not the kept prefill's");
  validateRequest(model, request);
  const ModelConfig& c = model.config();
  KvCache cache = state.cache.clone();
  SlotMap map = state.map(params.gqaReduction);
  StateVariantResult result;

  const auto start = std::chrono::steady_clock::now();
  if (policy) {
    for (int l = 0; l < c.nLayers; ++l) {
      if (keepGoing && !keepGoing()) throw KvsError("cancelled");
      policy->compressLayer(cache, map, l);
    }
  }
  DecodeCompressor decodeCompressor(params);
  decodeCompressor.start(cache);
  result.compression = describeCompressedCache(
      cache, map, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  result.bytesPerStep.push_back(cache.bytes());
  result.fullBytesPerStep.push_back(cache.fullAllocatedBytes());

  // The first token comes from the prefill's logits, as in generate().
  AttentionTracker tracker(map, c.groupSize(), params.gqaReduction);
  ObserverList observers({policy ? &tracker : nullptr, extra});
  LayerObserver* observer = observers.empty() ? nullptr : &observers;
  Sampler sampler(request.sampling);
  const auto isStop = [&](int t) {
    return std::find(request.stopIds.begin(), request.stopIds.end(), t) != request.stopIds.end();
  };
  const auto decodeStart = std::chrono::steady_clock::now();
  int token = sampler.sample(state.lastLogits);
  for (int pos = state.tokens();; ++pos) {
    result.generatedIds.push_back(token);
    if (onToken && !onToken(token)) {
      result.stopReason = StopReason::kCancelled;
      break;
    }
    if (isStop(token)) {
      result.stopReason = StopReason::kStopToken;
      break;
    }
    if (pos >= request.steps) break;
    const at::Tensor logits = model.forward({token}, cache, LogitsMode::kLast, observer);
    if (policy) decodeCompressor.afterStep(cache, map);
    result.bytesPerStep.push_back(cache.bytes());
    result.fullBytesPerStep.push_back(cache.fullAllocatedBytes());
    token = sampler.sample(logits);
  }
  result.decodeSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - decodeStart).count();
  result.slotMap = std::move(map);
  return result;
}

}  // namespace kvs
