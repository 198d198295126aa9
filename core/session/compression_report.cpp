#include "session/compression_report.h"

#include <nlohmann/json.hpp>

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
  report.window = memory.window;
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

std::string describeWindow(const WindowFigures& w) {
  if (w.window <= 0) return "";
  const std::string head = "sliding window " + std::to_string(w.window);
  if (!w.trimmed) {
    return head + " (keep): every slot is kept, the window only masks; at most " +
           std::to_string(w.maxHeadSlots) + " slots per head now";
  }
  return head + " (trim): " + std::to_string(w.droppedSlots) + " slots dropped (" +
         std::to_string(w.droppedBytes) + " bytes); at most " + std::to_string(w.maxHeadSlots) +
         " slots per head now, never more than " + std::to_string(w.boundHeadSlots);
}

nlohmann::json windowJson(const WindowFigures& w) {
  if (w.window <= 0) return nullptr;
  return {{"window", w.window},
          {"mode", toString(w.trimmed ? WindowCache::kTrim : WindowCache::kKeep)},
          {"dropped_slots", w.droppedSlots},
          {"dropped_bytes", w.droppedBytes},
          {"max_head_slots", w.maxHeadSlots},
          {"bound_head_slots", w.trimmed ? nlohmann::json(w.boundHeadSlots) : nullptr}};
}

}  // namespace kvs
