#include "session/compression_report.h"

#include "cache/kv_cache.h"

namespace kvs {

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

}  // namespace kvs
