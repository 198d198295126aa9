#include "session/request.h"

#include <algorithm>

#include "model/llama_model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs {
namespace {

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

std::vector<int> promptIdsOf(const Tokenizer& tokenizer, const PromptSpec& spec) {
  if (!spec.ids.empty()) return spec.ids;
  if (spec.chat) {
    require(!spec.bosOnly && !blank(spec.text),
            "the chat format needs a user message; " + spec.promptFix);
    return encodeChat(tokenizer, spec.system, {{spec.text, ""}});
  }
  if (spec.bosOnly) {
    // Qwen's tokenizers have no BOS: there is nothing to generate from without a prompt.
    require(tokenizer.bosId() >= 0, "the tokenizer " + tokenizer.path() +
                                        " has no BOS token to generate from; " + spec.promptFix);
    return {tokenizer.bosId()};
  }
  require(!blank(spec.text),
          spec.name + " is empty; " + spec.promptFix + " with some text, or " + spec.bosOnlyFix);
  return tokenizer.encode(spec.text, /*addBos=*/true);
}

namespace {

// Steps when the spec gives none; the prompt already fits the context.
int defaultSteps(const PromptSpec& spec, int promptTokens, int context,
                 std::vector<std::string>* notes) {
  if (spec.newTokens > 0) {
    // Positions 0 .. steps-1 are run and a token is chosen at each from P-1 on, so N new tokens
    // take P + N - 1 positions. A prompt that fits leaves room for at least one.
    const int wanted = promptTokens + spec.newTokens - 1;
    if (wanted <= context) return wanted;
    if (notes) {
      notes->push_back(spec.newTokensName + " " + std::to_string(spec.newTokens) + " capped at " +
                       std::to_string(context - promptTokens + 1) + ": the prompt's " +
                       std::to_string(promptTokens) +
                       " tokens leave no more of the model's context of " +
                       std::to_string(context) + " positions");
    }
    return context;
  }
  const int steps = std::min(kDefaultSteps, context);
  if (steps < kDefaultSteps && notes) {
    notes->push_back(spec.stepsName + " defaults to " + std::to_string(kDefaultSteps) +
                     ", capped at the model's context of " + std::to_string(context) +
                     " positions");
  }
  require(promptTokens < steps, spec.name + " is " + std::to_string(promptTokens) +
                                    " tokens, which fills the default " + spec.stepsName + " " +
                                    std::to_string(steps) + "; pass " + spec.stepsName +
                                    " N (up to " + std::to_string(context) + ")");
  return steps;
}

}  // namespace

const char* toString(StopReason reason) {
  switch (reason) {
    case StopReason::kSteps:
      return "steps";
    case StopReason::kStopToken:
      return "stop_token";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

void requirePromptFits(int tokens, int context, const std::string& what) {
  require(tokens > 0, what + " has no tokens (not even BOS)");
  require(tokens <= context, what + " is " + std::to_string(tokens) +
                                 " tokens but the model's context is " + std::to_string(context) +
                                 " positions; shorten the prompt");
}

void validateRequest(const LlamaModel& model, const GenerationRequest& request,
                     const std::string& stepsName) {
  const int context = model.config().seqLen;
  const int P = static_cast<int>(request.promptIds.size());
  requirePromptFits(P, context);
  const std::string steps = stepsName + " " + std::to_string(request.steps);
  require(request.steps <= context, steps + " exceeds the model's context of " +
                                        std::to_string(context) + " positions; use " +
                                        std::to_string(context) + " or less");
  require(request.steps >= P, steps + " is less than the prompt's " + std::to_string(P) +
                                  " tokens (" + stepsName +
                                  " counts the prompt's positions too); use " + std::to_string(P) +
                                  " or more, up to " + std::to_string(context));
  Sampler check(request.sampling);  // throws on bad sampling parameters
}

GenerationRequest makeRequest(const LlamaModel& model, const Tokenizer& tokenizer,
                              const PromptSpec& spec, std::vector<std::string>* notes) {
  const int context = model.config().seqLen;
  GenerationRequest request;
  request.promptIds = promptIdsOf(tokenizer, spec);
  const int P = static_cast<int>(request.promptIds.size());
  requirePromptFits(P, context, spec.name);
  request.steps = spec.steps > 0 ? spec.steps : defaultSteps(spec, P, context, notes);
  request.sampling = spec.sampling;
  if (spec.stopAtBosEos) {
    for (int id : {tokenizer.bosId(), tokenizer.eosId()}) {
      if (id >= 0) request.stopIds.push_back(id);
    }
    // A chat answer ends at its turn's end: Llama 3's <|eot_id|> (<|eom_id|> after a tool call),
    // ChatML's <|im_end|>; their config's EOS may be the end of a whole text instead.
    if (spec.chat) {
      for (const char* end : {"<|eot_id|>", "<|eom_id|>", "<|im_end|>"}) {
        const int id = tokenizer.pieceId(end);
        if (id >= 0) request.stopIds.push_back(id);
      }
    }
  }
  validateRequest(model, request, spec.stepsName);
  return request;
}

}  // namespace kvs
