#include "session/variant.h"

#include <chrono>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "compress/decode_compressor.h"
#include "model/llama_model.h"
#include "model/observer_list.h"

namespace kvs {

std::vector<std::vector<double>> epsUsed(const std::vector<std::vector<HeadDecision>>& decisions) {
  std::vector<std::vector<double>> table;
  for (const auto& layer : decisions) {
    table.emplace_back();
    for (const HeadDecision& d : layer) table.back().push_back(d.eps);
  }
  return table;
}

std::vector<std::vector<int>> protectedReleased(
    const std::vector<std::vector<HeadDecision>>& decisions) {
  std::vector<std::vector<int>> table;
  for (const auto& layer : decisions) {
    table.emplace_back();
    for (const HeadDecision& d : layer) table.back().push_back(d.releasedProtected);
  }
  return table;
}

CompressionReport describeCompressedCache(const KvCache& cache, const SlotMap& map,
                                          double compressSeconds) {
  CompressionReport report;
  report.decisions = map.decisions;
  report.decisions.resize(cache.nLayers(), std::vector<HeadDecision>(cache.nKvHeads()));
  report.compressSeconds = compressSeconds;
  report.promptTokens = cache.length();
  report.fullBytes = cache.fullBytes();
  report.bytes = cache.bytes();
  int64_t held = 0;
  for (int l = 0; l < cache.nLayers(); ++l) {
    report.slots.push_back(cache.slotCounts(l));
    report.layerBytes.push_back(cache.layerBytes(l));
    for (int s : cache.slotCounts(l)) held += s;
  }
  report.achievedRatio =
      double(held) / (double(cache.nLayers()) * cache.nKvHeads() * cache.length());
  return report;
}

VariantResult runVariant(const LlamaModel& model, const GenerationRequest& request,
                         const CompressionParams& params, const TokenCallback& onToken) {
  VariantHooks hooks;
  hooks.onToken = onToken;
  return runVariant(model, request, params, hooks);
}

VariantResult runVariant(const LlamaModel& model, const GenerationRequest& request,
                         const CompressionParams& params, const VariantHooks& hooks) {
  const auto policy = makePolicy(params);  // validates params before any work
  const ModelConfig& c = model.config();
  KvCache cache = model.makeCache();
  VariantResult result;
  result.slotMap.reset(c.nLayers, c.nKvHeads);
  AttentionTracker tracker(result.slotMap, c.groupSize(), params.gqaReduction);
  CompressionReport& report = result.compression;
  DecodeCompressor decodeCompressor(params);

  const auto compress = [&] {
    const auto start = std::chrono::steady_clock::now();
    if (policy) policy->compress(cache, result.slotMap);
    decodeCompressor.start(cache);
    report = describeCompressedCache(
        cache, result.slotMap,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  // The full cache needs no accumulated attention; tracking it costs decode speed.
  const bool track = policy || hooks.trackAttention;
  ObserverList observers({track ? &tracker : nullptr, hooks.observer});
  result.generation =
      generate(model, cache, request, hooks.onToken, observers.empty() ? nullptr : &observers,
               compress, [&] { decodeCompressor.afterStep(cache, result.slotMap); });
  if (!track) result.slotMap.appendTokens(0, cache.length());
  result.finalBytes = cache.bytes();
  result.finalUsedBytes = cache.usedBytes();
  result.finalFullBytes = cache.fullBytes();
  result.peakBytes = cache.peakBytes();
  return result;
}

}  // namespace kvs
