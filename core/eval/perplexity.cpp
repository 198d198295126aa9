#include "eval/perplexity.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "model/llama_model.h"
#include "session/decode.h"
#include "session/request.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

// One curve: the first `prefix` tokens as the prompt, the rest forced.
PerplexityCurve readThrough(const LlamaModel& model, const std::vector<int>& ids, int prefix,
                            const CompressionParams& params) {
  const auto begin = std::chrono::steady_clock::now();
  GenerationRequest request;
  request.promptIds.assign(ids.begin(), ids.begin() + prefix);
  const std::vector<int> forced(ids.begin() + prefix, ids.end());
  request.steps = static_cast<int>(ids.size()) - 1;  // the last token read is at position N - 1
  request.sampling.temperature = 0;
  validateRequest(model, request);
  DecodeHooks hooks;
  hooks.forced = &forced;
  hooks.keepLogProbs = true;  // [V] per forced token, given everything before it
  const DecodeResult r =
      decode(model, prefillStart(model, request.promptIds, params.gqaReduction, compresses(params)),
             request, params, hooks);
  PerplexityCurve c;
  c.setting = variantName(params);
  c.params = toJson(params);
  c.firstPosition = prefix;
  for (size_t t = 0; t < forced.size(); ++t) {
    c.nll.push_back(-r.logProbs[t][forced[t]].item<double>());
  }
  c.kvBytesEnd = r.memory.allocated;
  c.kvBytesFullEnd = r.memory.full;
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return c;
}

double meanFrom(const PerplexityCurve& c, int position) {
  double sum = 0;
  int n = 0;
  for (size_t i = std::max(0, position - c.firstPosition); i < c.nll.size(); ++i, ++n) {
    sum += c.nll[i];
  }
  return n > 0 ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

std::vector<PerplexityCurve> perplexityUnderBudget(
    const LlamaModel& model, const std::vector<int>& ids,
    const std::vector<CompressionParams>& settings,
    const std::function<bool(int done, int total)>& progress) {
  const int N = static_cast<int>(ids.size());
  requirePromptFits(N, model.config().seqLen, "the text");
  std::vector<CompressionParams> variants;
  int smallest = N - 1, largest = 1;
  for (CompressionParams p : settings) {
    if (!compresses(p)) continue;
    require(p.budgetTokens >= 2 && p.budgetTokens <= N - 2,
            "a cache of " + std::to_string(p.budgetTokens) + " slots for a text of " +
                std::to_string(N) + " tokens: give cache sizes from 2 to " + std::to_string(N - 2) +
                " (a longer text, or smaller sizes)");
    p.decodeCompression = true;  // the budget holds while the text is read
    try {
      p.validate();
    } catch (const KvsError& e) {
      throw KvsError(p.method + " cannot keep the cache at a fixed size while the text is read (" +
                     e.what() + "); leave " + p.method + " out of the methods");
    }
    smallest = std::min(smallest, p.budgetTokens);
    largest = std::max(largest, p.budgetTokens);
    variants.push_back(p);
  }
  if (variants.empty()) smallest = largest = 1;  // the full cache alone: every position but BOS
  const int total = 1 + static_cast<int>(variants.size());
  std::vector<PerplexityCurve> curves;
  curves.push_back(readThrough(model, ids, smallest, CompressionParams{}));
  curves.back().budget = N;
  if (progress && !progress(1, total)) throw KvsError("cancelled");
  for (const CompressionParams& p : variants) {
    curves.push_back(readThrough(model, ids, p.budgetTokens, p));
    curves.back().budget = p.budgetTokens;
    if (progress && !progress(static_cast<int>(curves.size()), total)) {
      throw KvsError("cancelled");
    }
  }
  for (PerplexityCurve& c : curves) {
    c.meanNll = meanFrom(c, c.firstPosition);
    c.meanNllCommon = meanFrom(c, largest);
  }
  return curves;
}

nlohmann::ordered_json curveJson(const PerplexityCurve& c) {
  return {{"setting", c.setting},         {"params", c.params},
          {"cache_size", c.budget},       {"first_position", c.firstPosition},
          {"mean_nll", c.meanNll},        {"mean_nll_common", c.meanNllCommon},
          {"kv_bytes_end", c.kvBytesEnd}, {"kv_bytes_full_end", c.kvBytesFullEnd},
          {"seconds", c.seconds},         {"nll", c.nll}};
}

}  // namespace kvs::eval
