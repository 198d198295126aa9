#pragma once
// What one decode is asked for, and the one place a prompt becomes such a request. Every front
// end (kvstudio-cli generate and compare, the GUI's worker) describes its input as a PromptSpec
// and calls makeRequest, so the checks (prompt within the context, steps, sampling) and their
// messages exist once.
//
// `steps` counts positions including the prompt's, as llama2.c's -n does: positions
// 0 .. steps-1 are run, so steps - P + 1 tokens are chosen for a prompt of P tokens.

#include <functional>
#include <string>
#include <vector>

#include "cache/window_figures.h"
#include "model/sampler.h"

namespace kvs {

class LlamaModel;
class Tokenizer;

struct GenerationRequest {
  std::vector<int> promptIds;  // BOS included
  int steps = 256;
  SamplerParams sampling;
  std::vector<int> stopIds;  // generation ends after choosing one of these (e.g. BOS, EOS)
  // A model with a sliding window: drop the slots outside it (default) or keep them behind the
  // mask (for checking that the trim changes nothing); no effect on other models.
  WindowCache windowCache = WindowCache::kTrim;
};

enum class StopReason { kSteps, kStopToken, kCancelled };
const char* toString(StopReason reason);

// Called with each chosen token; return false to stop (kCancelled).
using TokenCallback = std::function<bool(int token)>;

// Steps when a front end gives none and no newTokens: as llama2.c's default, capped at the context.
constexpr int kDefaultSteps = 256;

// The prompt has at least one token and at most `context`; KvsError naming it (`what`, e.g.
// "prompt 3 of prompts.txt") and the fix otherwise. Every "prompt longer than the context" check
// of the project is this one.
void requirePromptFits(int tokens, int context, const std::string& what = "the prompt");

// Checks an id-level request against the model: the prompt fits, steps within the context and
// not below the prompt, sampling parameters in range. stepsName is how the caller's user names
// the steps ("--steps", "Steps"). KvsError naming the problem and the fix.
void validateRequest(const LlamaModel& model, const GenerationRequest& request,
                     const std::string& stepsName = "steps");

// A prompt as a user gives it.
struct PromptSpec {
  std::string text;      // the prompt, or chat's user message
  std::vector<int> ids;  // instead of text: the prompt's ids as they are (BOS included)
  bool bosOnly = false;  // generate from BOS alone (text must be empty)
  bool chat = false;     // wrap text in the Llama-2-chat format (tokenizer/chat_template.h)
  std::string system;    // chat's system prompt
  int steps = 0;         // positions, the prompt's included; 0: the default below
  int newTokens = 0;     // with steps 0: newTokens tokens chosen after the prompt (P + newTokens
                         // - 1 positions, capped at the context with a note); 0: kDefaultSteps
  SamplerParams sampling;
  bool stopAtBosEos = true;  // generation ends at BOS or EOS (compare decodes every step)
  // How the front end names its inputs, so that a message names the fix in its terms.
  std::string name = "the prompt";  // e.g. "prompt 2" of a prompts file
  std::string stepsName = "steps";
  std::string newTokensName = "new tokens";  // e.g. "--new-tokens", "New tokens"
  std::string promptFix = "give a prompt";   // e.g. "pass --prompt TEXT", "type a prompt"
  std::string bosOnlyFix = "generate from BOS alone";
};

// The prompt's ids as a request will hold them (BOS included, the chat format applied); KvsError
// for a blank prompt where one is needed. Cheap enough for a live token count.
std::vector<int> promptIdsOf(const Tokenizer& tokenizer, const PromptSpec& spec);

// The request of a spec, every check done once (validateRequest's included). notes: what the user
// should know that is not an error (default steps capped at the context).
GenerationRequest makeRequest(const LlamaModel& model, const Tokenizer& tokenizer,
                              const PromptSpec& spec, std::vector<std::string>* notes = nullptr);

}  // namespace kvs
