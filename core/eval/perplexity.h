#pragma once
// Perplexity under a fixed cache budget, as StreamingLLM measures it: a long text is read token
// by token (teacher forcing through the one decode path, session/decode.h) while the cache is
// kept at its budget during decoding, and the negative log-likelihood of every next token is
// recorded, against the full cache.
//
// A setting with a budget of B slots per head reads the text's first B tokens as its prompt (the
// cache is full at B, nothing to compress yet), then decodes the rest with compression while
// decoding on, so the cache stays at B (plus the decode chunk). Its curve starts at position B;
// before that every setting is the full cache. The full cache's curve starts at the smallest
// budget, so each setting has the reference at every position it covers.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/compression_params.h"

namespace kvs {
class LlamaModel;
}

namespace kvs::eval {

struct PerplexityCurve {
  std::string setting;  // variantName
  nlohmann::json params;
  int budget = 0;              // slots per head (the full cache: the text's length)
  int firstPosition = 0;       // nll[i] is the NLL of the token at firstPosition + i
  std::vector<double> nll;     // nats
  double meanNll = 0;          // over the curve
  double meanNllCommon = 0;    // over the positions every curve covers (from the largest budget)
  int64_t kvBytesEnd = 0;      // allocated at the end
  int64_t kvBytesFullEnd = 0;  // a full cache of the text
  double seconds = 0;
};

// ids: the text's tokens, BOS first (at most the model's context). settings: compressing ones
// with budgetTokens > 0 (decodeCompression is switched on here); the full cache is measured
// first whatever the list holds. progress(done, total) after each curve; false cancels
// (KvsError "cancelled"). KvsError when a budget is below 2 or leaves fewer than 2 tokens to read.
std::vector<PerplexityCurve> perplexityUnderBudget(
    const LlamaModel& model, const std::vector<int>& ids,
    const std::vector<CompressionParams>& settings,
    const std::function<bool(int done, int total)>& progress = {});

// A curve as `eval perplexity --out` writes it (and a sweep's perplexity cells): setting, params,
// cache_size, first_position, mean_nll, mean_nll_common, kv_bytes_end, kv_bytes_full_end,
// seconds, nll.
nlohmann::ordered_json curveJson(const PerplexityCurve& c);

}  // namespace kvs::eval
