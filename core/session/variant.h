#pragma once
// A variant: one compression setting applied to a prompt's state, then decoding. Each entry point
// is a thin call of the one decode path (session/decode.h); they differ only in where the
// prompt's state comes from.

#include <vector>

#include "compress/compression_params.h"
#include "session/decode.h"
#include "session/prefill_state.h"
#include "session/request.h"

namespace kvs {

class LlamaModel;

// The full cache from a fresh prefill: plain generation (llama2.c's loop).
DecodeResult generate(const LlamaModel& model, const GenerationRequest& request,
                      const DecodeHooks& hooks = {});

// Prefill (accumulating attention when the method needs it or hooks.trackAttention) -> compress
// -> decode (attention keeps accumulating). hooks.observer sees the prompt's taps too.
DecodeResult runVariant(const LlamaModel& model, const GenerationRequest& request,
                        const CompressionParams& params, const DecodeHooks& hooks = {});

// From a kept PrefillState: its full cache is copied and compressed (hooks.keepGoing asked between
// layers), so trying a new setting costs only the compression and the decode. request.promptIds
// must be the state's; hooks.observer sees the decode's taps.
DecodeResult runVariantFromState(const LlamaModel& model, const PrefillState& state,
                                 const GenerationRequest& request, const CompressionParams& params,
                                 const DecodeHooks& hooks = {});

}  // namespace kvs
