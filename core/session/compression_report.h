#pragma once
// What a compression did to a prompt's cache, measured right after it (before decoding), and the
// per-head decisions as tables for JSON and recordings.

#include <cstdint>
#include <vector>

#include "cache/slot_map.h"

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
};

// The report of a cache right after compression (slots, bytes, achieved ratio, decisions).
CompressionReport describeCompressedCache(const KvCache& cache, double compressSeconds);

// The decisions as tables [L][Hkv] for JSON and recordings: the eps each head used (NaN, which
// JSON writes as null, where no threshold applied) and the protected tokens it released. Every
// output that reports a variant carries them, so an exact budget's searched eps is never hidden.
std::vector<std::vector<double>> epsUsed(const std::vector<std::vector<HeadDecision>>& decisions);
std::vector<std::vector<int>> protectedReleased(
    const std::vector<std::vector<HeadDecision>>& decisions);

}  // namespace kvs
