#pragma once
// What a compression did to a prompt's cache, measured right after it (before decoding), and the
// per-head decisions as tables for JSON and recordings.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "cache/slot_map.h"
#include "cache/window_figures.h"

namespace kvs {

class KvCache;

struct CompressionReport {
  int promptTokens = 0;
  double compressSeconds = 0;
  std::vector<std::vector<int>> slots;               // [L][Hkv] right after compression
  std::vector<int64_t> layerBytes;                   // held per layer right after compression
  int64_t bytes = 0;                                 // held in total right after compression
  int64_t fullBytes = 0;                             // a full cache of the prompt
  double achievedRatio = 1;                          // slots held / (L * Hkv * prompt tokens)
  std::vector<std::vector<HeadDecision>> decisions;  // [L][Hkv]: eps used, protection released
  WindowFigures window;  // what the sliding window dropped from the prompt (window 0: none)
};

// The report of a cache right after compression (slots, bytes, achieved ratio, decisions).
CompressionReport describeCompressedCache(const KvCache& cache, double compressSeconds);

// The decisions as tables [L][Hkv] for JSON and recordings: the eps each head used (NaN, which
// JSON writes as null, where no threshold applied) and the protected tokens it released. Every
// output that reports a variant carries them, so an exact budget's searched eps is never hidden.
std::vector<std::vector<double>> epsUsed(const std::vector<std::vector<HeadDecision>>& decisions);
std::vector<std::vector<int>> protectedReleased(
    const std::vector<std::vector<HeadDecision>>& decisions);

// One line on the window for summaries, e.g. "sliding window 4096 (trim): 1234 slots dropped
// (5054464 bytes); at most 4095 slots per head now, never more than 4159"; empty without a
// window.
std::string describeWindow(const WindowFigures& w);
// The same as JSON: null without a window, else window, mode, dropped_slots, dropped_bytes,
// max_head_slots and bound_head_slots (null when kept).
nlohmann::json windowJson(const WindowFigures& w);

}  // namespace kvs
