#pragma once
// A variant: one compression setting applied to a prompt's prefill state, then decoding.
// Prefill (with accumulated attention) -> policy plan -> applyPlan -> decode (attention keeps
// accumulating).

#include <vector>

#include "cache/slot_map.h"
#include "compress/compression_params.h"
#include "session/generator.h"

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

// The decisions as tables [L][Hkv] for JSON and recordings: the eps each head used (NaN, which
// JSON writes as null, where no threshold applied) and the protected tokens it released. Every
// output that reports a variant carries them, so an exact budget's searched eps is never hidden.
std::vector<std::vector<double>> epsUsed(const std::vector<std::vector<HeadDecision>>& decisions);
std::vector<std::vector<int>> protectedReleased(
    const std::vector<std::vector<HeadDecision>>& decisions);

struct VariantResult {
  GenerationResult generation;
  CompressionReport compression;
  SlotMap slotMap;             // at the end of generation
  int64_t finalBytes = 0;      // held at the end (allocated, with padding and growth headroom)
  int64_t finalUsedBytes = 0;  // of the slots held at the end
  int64_t finalFullBytes = 0;  // a full cache of every token at the end
  int64_t peakBytes = 0;
};

// The report of a cache right after compression (slots, bytes, achieved ratio, decisions).
CompressionReport describeCompressedCache(const KvCache& cache, const SlotMap& map,
                                          double compressSeconds);

struct VariantHooks {
  TokenCallback onToken;
  LayerObserver* observer = nullptr;  // extra taps after the variant's own, e.g. a recorder
  bool trackAttention = false;        // accumulate attention even when the method needs none
};

VariantResult runVariant(const LlamaModel& model, const GenerationRequest& request,
                         const CompressionParams& params, const VariantHooks& hooks);
VariantResult runVariant(const LlamaModel& model, const GenerationRequest& request,
                         const CompressionParams& params, const TokenCallback& onToken = {});

}  // namespace kvs
