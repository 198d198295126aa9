#pragma once
// The generation loop: prefill the prompt in one batched pass, then decode token by token.
// `steps` counts positions including the prompt's, as llama2.c's -n does: positions
// 0 .. steps-1 are run, so steps - P + 1 tokens are sampled for a prompt of P tokens.

#include <functional>
#include <vector>

#include "model/sampler.h"

namespace kvs {

class KvCache;
class LayerObserver;
class LlamaModel;

struct GenerationRequest {
  std::vector<int> promptIds;  // BOS included
  int steps = 256;
  SamplerParams sampling;
  std::vector<int> stopIds;  // generation ends after sampling one of these (e.g. BOS, EOS)
};

enum class StopReason { kSteps, kStopToken, kCancelled };
const char* toString(StopReason reason);

struct GenerationResult {
  std::vector<int> generatedIds;  // sampled tokens, stop token included
  double prefillSeconds = 0;
  double decodeSeconds = 0;
  int decodeForwardPasses = 0;  // one-token forward passes after prefill
  StopReason stopReason = StopReason::kSteps;

  double decodeTokensPerSecond() const {
    return decodeSeconds > 0 ? decodeForwardPasses / decodeSeconds : 0.0;
  }
};

// Called with each sampled token; return false to stop (cancel).
using TokenCallback = std::function<bool(int token)>;

// Checks the request against the model (prompt within the context, steps within the context and
// not below the prompt); throws KvsError naming the problem and the fix.
void validateRequest(const LlamaModel& model, const GenerationRequest& request);

// Runs the request on an empty cache (cleared first).
// afterPrefill runs once the prompt is in the cache, before the first decode step (where a
// variant compresses the cache).
GenerationResult generate(const LlamaModel& model, KvCache& cache, const GenerationRequest& request,
                          const TokenCallback& onToken = {}, LayerObserver* observer = nullptr,
                          const std::function<void()>& afterPrefill = {},
                          const std::function<void()>& afterStep = {});

}  // namespace kvs
