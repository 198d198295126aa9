#include "compress/decode_compressor.h"

#include <algorithm>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"

namespace kvs {

DecodeCompressor::DecodeCompressor(const CompressionParams& params) : params_(params) {}

bool DecodeCompressor::compressed(int layer) const {
  return methodNamed(params_.method).compressesLayer(params_, layer);
}

void DecodeCompressor::start(const KvCache& cache) {
  // Recent and protected counts stay those of the prompt; the size to return to is the largest
  // head of the compressed layers. Re-compression always fits that size exactly: where the
  // protected tokens and the runs between them need more slots, KVMerger releases protection
  // (decideMergingSets).
  // With the window trimmed, the prompt's tokens a query can still see (the W - 1 before the
  // next position): the recent and protected counts are shares of what is left, as the method's
  // re-compression works on what the window leaves.
  const int T = cache.trimsWindow() ? std::min(cache.length(), std::max(1, cache.window() - 1))
                                    : cache.length();
  params_.fixedRecent = params_.recentCount(T);
  params_.fixedProtected = params_.protectedCount(T);
  params_.exactBudget = true;
  target_ = 0;
  for (int l = 0; l < cache.nLayers(); ++l) {
    if (!compressed(l)) continue;
    for (int s : cache.slotCounts(l)) target_ = std::max(target_, s);
  }
  params_.budgetTokens = target_;
}

bool DecodeCompressor::afterStep(KvCache& cache) {
  if (!compressesWhileDecoding(params_) || target_ == 0) {
    return false;
  }
  int longest = 0;
  for (int l = 0; l < cache.nLayers(); ++l) {
    if (!compressed(l)) continue;
    for (int s : cache.slotCounts(l)) longest = std::max(longest, s);
  }
  if (longest < target_ + params_.decodeChunk) return false;
  // Headroom for the next chunk of tokens, so decoding does not reallocate at every step.
  makePolicy(params_)->compress(cache, params_.decodeChunk);
  return true;
}

}  // namespace kvs
