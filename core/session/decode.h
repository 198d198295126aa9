#pragma once
// The one decode path (architecture.md, "One picture of the data flow"): generation, the GUI's
// variants, comparison (free and teacher-forced), recording and evaluation all start from a
// prompt's cache and call decode() with hooks, rather than writing their own loop.
//
//   DecodeStart (cache with its cells + last logits of a prompt of P tokens)
//     -> compressPrompt (the compression step, once, then the window trim) -> CompressionReport
//     -> token 0 from the prompt's logits, then one forward pass per position P .. steps-1,
//        each followed by the window trim and decode-time compression (DecodeCompressor)
//                                                                    -> DecodeResult
// The window trim (compress/window_trim.h, models with a sliding window unless the request
// keeps it) drops the slots no later query can see, so it changes no logit.
//
// Shapes: L layers, Hkv KV heads, P prompt tokens, D head dim, V vocabulary.

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <vector>

#include "cache/kv_cache.h"
#include "compress/compression_params.h"
#include "session/compression_report.h"
#include "session/prefill_state.h"
#include "session/request.h"

namespace kvs {

class LayerObserver;
class LlamaModel;

// A prompt's state to decode from; decode() consumes it.
struct DecodeStart {
  KvCache cache;      // keys after RoPE and values, [Hkv, P, D] per layer; its cells carry the
                      // prompt's accumulated attention (or zeros)
  at::Tensor logits;  // [V] of the last prompt token
  double prefillSeconds = 0;
  // Set by compressPrompt: the params were applied, so decode() does not compress again (a start
  // decoded twice, as compare's free and teacher-forced runs, is compressed once).
  std::optional<CompressionReport> compressed;

  // An independent copy (the cache's storage cloned), to decode one start twice.
  DecodeStart clone() const;
};

// Runs the prompt on an empty cache. track: accumulate the prompt's attention into the cells under
// `reduction` (the policies that need it); otherwise every slot's attention stays 0 (cheaper).
// observer (e.g. a recorder) sees the prompt's taps after the tracker.
DecodeStart prefillStart(const LlamaModel& model, const std::vector<int>& promptIds,
                         GqaReduction reduction, bool track, LayerObserver* observer = nullptr);

// One prefill of promptIds per GQA reduction the settings use, tracking attention when one of
// them compresses: for settings that each decode from a copy of theirs (DecodeStart::clone),
// as evaluation does (a sample's prompt run once, not once per setting).
std::map<GqaReduction, DecodeStart> prefillStarts(
    const LlamaModel& model, const std::vector<int>& promptIds,
    const std::vector<const CompressionParams*>& settings);

// A copy of a kept prefill's state (the state itself is not changed), its accumulated attention
// under `reduction`.
DecodeStart startFrom(const PrefillState& state, GqaReduction reduction);

// The compression step before decoding, layer by layer; keepGoing is asked before each layer
// (false throws KvsError "cancelled"). Sets and returns start.compressed.
const CompressionReport& compressPrompt(DecodeStart& start, const CompressionParams& params,
                                        const KeepGoing& keepGoing = {});

struct DecodeHooks {
  TokenCallback onToken;              // each chosen token; false cancels (kCancelled)
  LayerObserver* observer = nullptr;  // extra taps after the variant's own, e.g. a recorder
  bool trackAttention = false;        // accumulate attention even when the method needs none
  KeepGoing keepGoing;                // asked between layers of the compression step
  // Teacher forcing: token t is (*forced)[t] instead of a sampled one (the sampler is not used);
  // decoding ends after the last forced token (or at the request's steps).
  const std::vector<int>* forced = nullptr;
  bool keepLogProbs = false;  // keep log-softmax of each step's logits (DecodeResult::logProbs)
  // The request's stop ids cannot be chosen for the first minNewTokens tokens (their logits are
  // set to the lowest float), as Hugging Face's min_new_tokens; LongBench asks it of samsum.
  int minNewTokens = 0;
};

struct DecodeResult {
  std::vector<int> generatedIds;  // chosen tokens, stop token included
  StopReason stopReason = StopReason::kSteps;
  double prefillSeconds = 0;      // of the prompt's prefill (the start's)
  double decodeSeconds = 0;       // from the first token on, the compression step excluded
  int decodeForwardPasses = 0;    // one-token forward passes after the prompt
  CompressionReport compression;  // right after the prompt was compressed
  // Cache bytes allocated after compression (index 0) and after each decode step; and what a
  // never-compressed cache would have allocated at each of those points (growth headroom in
  // both, CacheMemory::fullAllocated).
  std::vector<int64_t> bytesPerStep, fullBytesPerStep;
  SlotMap cells;       // the cache's cells at the end (decode steps without tracking: attention 0)
  CacheMemory memory;  // at the end; peak includes the prompt's prefill
  std::vector<at::Tensor> logProbs;  // with keepLogProbs: [V] per chosen token, CPU double

  double decodeTokensPerSecond() const {
    return decodeSeconds > 0 ? decodeForwardPasses / decodeSeconds : 0.0;
  }
};

// Decodes the request from start under params. request.promptIds must be the start's prompt;
// the caller has validated the request (validateRequest) and params. Random sampling draws its
// first token from the prompt's logits, then one per forward pass, in that order.
DecodeResult decode(const LlamaModel& model, DecodeStart start, const GenerationRequest& request,
                    const CompressionParams& params, const DecodeHooks& hooks = {});

}  // namespace kvs
