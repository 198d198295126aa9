#include "session/variant.h"

#include "util/error.h"

namespace kvs {

DecodeResult generate(const LlamaModel& model, const GenerationRequest& request,
                      const DecodeHooks& hooks) {
  return runVariant(model, request, CompressionParams{}, hooks);
}

DecodeResult runVariant(const LlamaModel& model, const GenerationRequest& request,
                        const CompressionParams& params, const DecodeHooks& hooks) {
  params.validate();  // before any work
  validateRequest(model, request);
  const bool track = compresses(params) || hooks.trackAttention;
  return decode(model,
                prefillStart(model, request.promptIds, params.gqaReduction, track, hooks.observer),
                request, params, hooks);
}

DecodeResult runVariantFromState(const LlamaModel& model, const PrefillState& state,
                                 const GenerationRequest& request, const CompressionParams& params,
                                 const DecodeHooks& hooks) {
  params.validate();
  require(request.promptIds == state.promptIds, "the request's prompt is not the kept prefill's");
  validateRequest(model, request);
  return decode(model, startFrom(state, params.gqaReduction), request, params, hooks);
}

}  // namespace kvs
