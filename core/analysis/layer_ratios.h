#pragma once
// Per-layer compression ratios (merge_analysis.h) of whole prompts, for the GUI's layer-ratio
// view: the kept prefill's (the current prompt, cheap, redone on every parameter change) and a
// fresh forward per prompt of a prompts file (the paper's second observation over a batch).

#include <functional>
#include <string>
#include <vector>

#include "analysis/merge_analysis.h"
#include "compress/compression_params.h"

namespace kvs {

class LlamaModel;
struct PrefillState;

// The fixed-threshold identification KVMerger would run under params: its eps, and the recent
// and protected fractions params gives or the paper's defaults for its budget. Whatever the
// method and budget mode: observation 2 is about a fixed eps, not a budget met exactly.
MergeThresholds thresholdsFor(const CompressionParams& params);

// One prompt per line; blank lines and lines starting with '#' are skipped, as
// `kvstudio-cli analyze --batch --prompts-file` reads them. KvsError when the file cannot be
// read or holds no prompt.
std::vector<std::string> readPromptsFile(const std::string& path);

// [L] ratios of a kept prefill: keys after RoPE from its cache, the accumulated attention
// (GQA mean) from its cache's cells.
std::vector<double> keptLayerRatios(const PrefillState& state, const MergeThresholds& t);

// [L] ratios of ids from one forward pass that keeps nothing (each layer's keys and attention
// are reduced to a ratio as the layer passes). keepGoing is asked once per layer; false throws
// KvsError("cancelled").
std::vector<double> promptLayerRatios(const LlamaModel& model, const std::vector<int>& ids,
                                      const MergeThresholds& t,
                                      const std::function<bool()>& keepGoing = {});

}  // namespace kvs
