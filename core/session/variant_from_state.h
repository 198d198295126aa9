#pragma once
// One variant decoded from a kept PrefillState: copy the full cache, compress it with the params
// (layer by layer, cancellable), then decode. The prompt is not run again, so trying a new sigma
// costs only the compression and the decode.

#include <functional>
#include <vector>

#include "session/generator.h"
#include "session/prefill_state.h"
#include "session/variant.h"

namespace kvs {

struct StateVariantResult {
  std::vector<int> generatedIds;  // sampled tokens, stop token included
  StopReason stopReason = StopReason::kSteps;
  CompressionReport compression;  // right after the prompt was compressed
  // Cache bytes allocated after compression (index 0) and after each decode step; and what a
  // never-compressed cache would have allocated at each of those points (growth headroom in both,
  // KvCache::fullAllocatedBytes).
  std::vector<int64_t> bytesPerStep;
  std::vector<int64_t> fullBytesPerStep;
  double decodeSeconds = 0;
  SlotMap slotMap;  // at the end of decoding (what a recording's slot table holds)
};

// request: steps, sampling and stop ids (its promptIds must be the state's). onToken returning
// false stops decoding (kCancelled); keepGoing is asked between layers of the compression and
// throws KvsError("cancelled") when it says no. observer (e.g. an Hdf5Recorder) sees the taps of
// every decode step.
StateVariantResult runVariantFromState(const LlamaModel& model, const PrefillState& state,
                                       const GenerationRequest& request,
                                       const CompressionParams& params,
                                       const TokenCallback& onToken = {},
                                       const KeepGoing& keepGoing = {},
                                       LayerObserver* observer = nullptr);

}  // namespace kvs
