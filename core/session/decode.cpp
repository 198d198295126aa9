#include "session/decode.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "cache/attention_tracker.h"
#include "compress/compression_policy.h"
#include "compress/decode_compressor.h"
#include "compress/window_trim.h"
#include "model/llama_model.h"
#include "model/observer_list.h"
#include "model/sliding_window.h"
#include "util/error.h"

namespace kvs {
namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The window trim as the variant needs it: headroom for the next chunk of tokens, the variant's
// slot bias kept, keys at their slots' positions turned back with them.
WindowTrimOptions trimOptions(const KvCache& cache, const CompressionParams& params,
                              int minDropped) {
  WindowTrimOptions o;
  o.minDropped = minDropped;
  o.headroom = windowTrimChunk(cache.window());
  o.logBias = params.logBias;
  o.cachePositions = usesCachePositions(params);
  return o;
}

}  // namespace

DecodeStart DecodeStart::clone() const {
  return {cache.clone(), logits, prefillSeconds, compressed};
}

DecodeStart prefillStart(const LlamaModel& model, const std::vector<int>& promptIds,
                         GqaReduction reduction, bool track, LayerObserver* observer) {
  const ModelConfig& c = model.config();
  DecodeStart start{model.makeCache(), {}, 0, std::nullopt};
  AttentionTracker tracker(start.cache, c.groupSize(), reduction);
  ObserverList observers({track ? &tracker : nullptr, observer});
  const auto begin = std::chrono::steady_clock::now();
  start.logits = model.forward(promptIds, start.cache, LogitsMode::kLast,
                               observers.empty() ? nullptr : &observers);
  start.prefillSeconds = secondsSince(begin);
  return start;
}

std::map<GqaReduction, DecodeStart> prefillStarts(
    const LlamaModel& model, const std::vector<int>& promptIds,
    const std::vector<const CompressionParams*>& settings) {
  std::map<GqaReduction, DecodeStart> starts;
  for (const CompressionParams* p : settings) {
    if (starts.count(p->gqaReduction)) continue;
    bool track = false;
    for (const CompressionParams* q : settings) {
      track |= q->gqaReduction == p->gqaReduction && compresses(*q);
    }
    starts.emplace(p->gqaReduction, prefillStart(model, promptIds, p->gqaReduction, track));
  }
  return starts;
}

DecodeStart startFrom(const PrefillState& state, GqaReduction reduction) {
  return {state.cache(reduction).clone(), state.lastLogits, state.prefillSeconds, std::nullopt};
}

const CompressionReport& compressPrompt(DecodeStart& start, const CompressionParams& params,
                                        const KeepGoing& keepGoing) {
  const auto policy = makePolicy(params);  // validates params before any work
  const auto begin = std::chrono::steady_clock::now();
  if (policy) {
    for (int l = 0; l < start.cache.nLayers(); ++l) {
      if (keepGoing && !keepGoing()) throw KvsError("cancelled");
      policy->compressLayer(start.cache, l);
    }
  }
  // The method first, on the whole prompt as on any model (its budget a share of the prompt's
  // tokens, SnapKV's window queries over all of them), then the window drops what no later
  // query can see: the visible slots are exactly those a kept window would show.
  trimToWindow(start.cache, trimOptions(start.cache, params, 1));
  start.compressed = describeCompressedCache(start.cache, secondsSince(begin));
  return *start.compressed;
}

DecodeResult decode(const LlamaModel& model, DecodeStart start, const GenerationRequest& request,
                    const CompressionParams& params, const DecodeHooks& hooks) {
  const int P = static_cast<int>(request.promptIds.size());
  TORCH_CHECK(start.cache.length() == P, "decode: the start holds ", start.cache.length(),
              " positions but the request's prompt ", P);
  TORCH_CHECK(!hooks.forced || !hooks.forced->empty(), "decode: no forced tokens");
  if (!start.compressed) {
    start.cache.setWindowCache(request.windowCache);
    compressPrompt(start, params, hooks.keepGoing);
  }
  require(start.cache.window() == 0 || start.cache.windowCache() == request.windowCache,
          std::string("decode: the start was compressed with window cache ") +
              toString(start.cache.windowCache()) + " but the request asks " +
              toString(request.windowCache));
  KvCache& cache = start.cache;
  // After each step, once a chunk of slots has left the window (windowSlotBound).
  const WindowTrimOptions stepTrim = trimOptions(cache, params, windowTrimChunk(cache.window()));
  DecodeResult result;
  result.prefillSeconds = start.prefillSeconds;
  result.compression = std::move(*start.compressed);
  DecodeCompressor compressor(params);
  compressor.start(cache);
  const auto recordBytes = [&] {
    const CacheMemory memory = cache.memory();
    result.bytesPerStep.push_back(memory.allocated);
    result.fullBytesPerStep.push_back(memory.fullAllocated);
  };
  recordBytes();

  // The full cache needs no accumulated attention; tracking it costs decode speed.
  const bool track = compresses(params) || hooks.trackAttention;
  AttentionTracker tracker(cache, model.config().groupSize(), params.gqaReduction);
  ObserverList observers({track ? &tracker : nullptr, hooks.observer});
  LayerObserver* observer = observers.empty() ? nullptr : &observers;
  Sampler sampler(request.sampling);
  const auto isStop = [&](int t) {
    return std::find(request.stopIds.begin(), request.stopIds.end(), t) != request.stopIds.end();
  };

  // As llama2.c's loop: the token at position pos comes from the logits of position pos - 1
  // (the prompt's last for the first); a forward pass follows unless decoding ends there.
  const auto begin = std::chrono::steady_clock::now();
  at::Tensor logits = start.logits;  // [V]
  for (int pos = P;; ++pos) {
    if (hooks.keepLogProbs) {
      result.logProbs.push_back(at::log_softmax(logits.to(at::kCPU, at::kDouble), 0));
    }
    const size_t t = result.generatedIds.size();
    if (!hooks.forced && static_cast<int>(t) < hooks.minNewTokens && !request.stopIds.empty()) {
      logits = logits.clone();
      // The lowest finite logit, not -inf: the sampler refuses non-finite logits as corruption.
      for (int id : request.stopIds) logits[id] = std::numeric_limits<float>::lowest();
    }
    const int token = hooks.forced ? (*hooks.forced)[t] : sampler.sample(logits);
    result.generatedIds.push_back(token);
    if (hooks.onToken && !hooks.onToken(token)) {
      result.stopReason = StopReason::kCancelled;
      break;
    }
    if (isStop(token)) {
      result.stopReason = StopReason::kStopToken;
      break;
    }
    if (pos >= request.steps || (hooks.forced && t + 1 >= hooks.forced->size())) break;
    logits = model.forward({token}, cache, LogitsMode::kLast, observer);
    ++result.decodeForwardPasses;
    // The window first (exact), then the method on what is left.
    trimToWindow(cache, stepTrim);
    compressor.afterStep(cache);
    recordBytes();
  }
  result.decodeSeconds = secondsSince(begin);
  result.memory = cache.memory();
  result.cells = std::move(cache).cellMap();
  return result;
}

}  // namespace kvs
