#include "compress/decode_compressor.h"

#include <algorithm>

#include "cache/kv_cache.h"

namespace kvs {

DecodeCompressor::DecodeCompressor(const CompressionParams& params) : params_(params) {}

void DecodeCompressor::start(const KvCache& cache) {
  target_ = 0;
  for (int l = 0; l < cache.nLayers(); ++l) {
    for (int s : cache.slotCounts(l)) target_ = std::max(target_, s);
  }
}

bool DecodeCompressor::afterStep(KvCache& cache, SlotMap& map) {
  if (!params_.decodeCompression || params_.method == Method::kFull) return false;
  int longest = 0;
  for (int l = 0; l < cache.nLayers(); ++l) {
    for (int s : cache.slotCounts(l)) longest = std::max(longest, s);
  }
  if (longest < target_ + params_.decodeChunk) return false;
  CompressionParams p = params_;
  p.budgetTokens = target_;  // the same size as after the prompt, whatever the tokens seen
  applyPlan(makePolicy(p)->plan(cache, map), cache, map);
  return true;
}

}  // namespace kvs
