#pragma once
// Compare compression variants of one prompt against the full cache: the prompt is prefilled once;
// each variant starts from a copy of that state, is compressed once, then decodes greedily twice
// through the one decode path (session/decode.h): freely (its own text) and teacher-forced on the
// full cache's continuation (quality metrics from the kept log-probabilities).

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/slot_map.h"
#include "compress/compression_params.h"

namespace kvs {

class LayerObserver;
class LlamaModel;
struct PrefillState;

struct VariantOutcome {
  CompressionParams params;
  std::vector<int> generatedIds;  // greedy, free-running
  // Teacher-forced on the full cache's greedy continuation, over the decoded steps after the
  // first (which every variant takes from the same full prefill):
  double meanKl = 0;  // mean KL(full || variant) of the next-token distributions (nats)
  double maxKl = 0;
  double top1Agreement = 1;  // fraction of steps whose argmax equals the full cache's token
  double nll = 0;            // mean negative log-likelihood of the full continuation (nats/token)
  int64_t kvBytes = 0, kvBytesFull = 0;  // right after compression
  double achievedRatio = 1;
  std::vector<std::vector<HeadDecision>> decisions;  // [L][Hkv] right after compression
  double seconds = 0;
  SlotMap
      cells;  // the cache's at the end of the free-running decode, with ComparisonHooks::keepCells
};

struct ComparisonHooks {
  // Taps of the prompt's prefill and of the full cache's greedy decode (e.g. a recorder), and
  // each token of that continuation as it is chosen.
  LayerObserver* referenceObserver = nullptr;
  std::function<void(int token)> onReferenceToken;
  bool keepCells = false;
};

// progress(done, total) after each variant; returning false cancels (KvsError "cancelled").
using Progress = std::function<bool(int done, int total)>;

// The full cache is always measured first (outcome 0, all metrics trivial); steps counts positions
// including the prompt's, as in generate.
std::vector<VariantOutcome> compareVariants(const LlamaModel& model,
                                            const std::vector<int>& promptIds, int steps,
                                            const std::vector<CompressionParams>& variants,
                                            const Progress& progress = {},
                                            const ComparisonHooks& hooks = {});

// The same from a prompt's kept prefill (the app's): no forward pass over the prompt at all, and
// each GQA reduction's accumulated attention comes from the state. Hooks see the decode only.
std::vector<VariantOutcome> compareVariants(const LlamaModel& model, const PrefillState& state,
                                            int steps,
                                            const std::vector<CompressionParams>& variants,
                                            const Progress& progress = {},
                                            const ComparisonHooks& hooks = {});

// The measures every output writes of a variant (compare's rows, a sweep's cells): mean_kl,
// max_kl, top1_agreement, nll, kv_bytes, kv_bytes_full, achieved_ratio, eps_used,
// protected_released, seconds.
nlohmann::json variantFiguresJson(const VariantOutcome& v);

}  // namespace kvs
