#include "session/compression_report.h"

#include "cache/kv_cache.h"

namespace kvs {

CompressionReport describeCompressedCache(const KvCache& cache, double compressSeconds) {
  CompressionReport report;
  report.decisions = cache.cellMap().decisions;
  report.compressSeconds = compressSeconds;
  report.promptTokens = cache.length();
  const CacheMemory memory = cache.memory();
  report.fullBytes = memory.full;
  report.bytes = memory.allocated;
  report.layerBytes = memory.layerAllocated;
  for (int l = 0; l < cache.nLayers(); ++l) report.slots.push_back(cache.slotCounts(l));
  report.achievedRatio =
      double(cache.totalSlots()) / (double(cache.nLayers()) * cache.nKvHeads() * cache.length());
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
