#include "cli/compression_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/validators.h"
#include "util/error.h"

namespace kvs::cli {

void addCompressionOptions(CLI::App& app, CompressionOptions& o) {
  CompressionParams& p = o.params;
  const std::string group = "Compression";
  app.add_option("--method", o.method, "full, streaming, h2o, cam or kvmerger")->group(group);
  app.add_option("--budget", p.budget,
                 "Slots kept per (layer, KV head), as a fraction of the prompt")
      ->group(group);
  app.add_option("--budget-tokens", p.budgetTokens,
                 "Slots kept per (layer, KV head), absolute. At least the prompt's tokens keeps "
                 "the prompt's cache whole: a note on stderr and in --json says nothing is "
                 "compressed")
      ->check(positiveWhole())
      ->group(group);
  app.add_flag("--approximate-budget", o.approximateBudget,
               "KVMerger: use --eps as given (the paper) instead of fitting the budget exactly")
      ->group(group);
  o.epsOption = app.add_option("--eps", p.eps,
                               "KVMerger with --approximate-budget: merge when adjacent key "
                               "cosine > eps (default 0.75; an exact budget searches eps)")
                    ->group(group);
  app.add_option("--sigma", p.sigma, "KVMerger: Gaussian kernel bandwidth (default 5)")
      ->group(group);
  app.add_option("--sigma-mode", o.sigmaMode, "fixed, mean-distance or literal")->group(group);
  app.add_option("--recent", p.recentRatio,
                 "Recent tokens never evicted or merged, fraction of the prompt (default: the "
                 "paper's for the budget)")
      ->check(unitIntervalClosed())
      ->group(group);
  app.add_option("--protected", p.protectedRatio,
                 "KVMerger: top-attention tokens kept; H2O/CaM: heavy hitters (fraction; "
                 "default: the paper's for the budget)")
      ->check(unitIntervalClosed())
      ->group(group);
  app.add_option("--layout", o.layout, "KVMerger merging sets: per-head or shared (per layer)")
      ->group(group);
  app.add_option("--skip-layers", p.skipLayers, "KVMerger: layers kept full, e.g. 0,1,31")
      ->delimiter(',')
      ->group(group);
  app.add_flag("--no-value-scaling", o.noValueScaling,
               "KVMerger: merged value = weighted mean (paper: n times it)")
      ->group(group);
  app.add_option("--gqa-reduction", o.gqaReduction,
                 "Accumulated attention over the query heads of a KV head: mean, sum or max")
      ->group(group);
  app.add_option("--sink-tokens", p.sinkTokens, "StreamingLLM: first tokens kept (default 4)")
      ->group(group);
  o.camWindowOption =
      app.add_option("--cam-window", p.camWindow,
                     "CaM: kept tokens an evicted value merges into (default 32; 16 with "
                     "--cam-base streaming, as the authors' streaming code)")
          ->group(group);
  o.camBaseOption =
      app.add_option("--cam-base", o.camBase,
                     "CaM: h2o (recent + heavy hitters at prefill, the KVMerger paper's baseline) "
                     "or streaming (sinks + recent, one eviction and merge per decode step, "
                     "positions inside the cache: the authors' streaming code)")
          ->group(group);
  o.positionsOption =
      app.add_option("--streaming-positions", o.positions,
                     "StreamingLLM: original (keys and queries at their tokens' positions) or "
                     "cache (slot s at position s: the authors' rolling RoPE)")
          ->group(group);
  app.add_option("--cam-seed", p.seed, "CaM: seed of its Bernoulli draws (default 0)")
      ->check(seedNumber())
      ->group(group);
  app.add_flag("--log-bias", p.logBias,
               "Add log(n) to the attention logits of a slot merging n tokens (not in the paper)")
      ->group(group);
  app.add_flag("--decode-compression", p.decodeCompression,
               "Keep the cache at its compressed size while decoding")
      ->group(group);
  app.add_option("--decode-chunk", p.decodeChunk,
                 "With --decode-compression: slots a head may grow before it is compressed again "
                 "(default 1: H2O's per-step eviction; below the model's context)")
      ->check(positiveWhole())
      ->group(group);
}

CompressionParams CompressionOptions::resolve() const {
  CompressionParams p = params;
  p.method = parseMethod(method);
  p.sigmaMode = parseSigmaMode(sigmaMode);
  p.layout = parseMergeLayout(layout);
  p.gqaReduction = parseGqaReduction(gqaReduction);
  p.camBase = parseCamBase(camBase);
  p.positions = parseStreamingPositions(positions);
  const auto given = [](const CLI::Option* o) { return o && o->count() > 0; };
  // The authors' streaming CaM merges each evicted value into the 16 values after it.
  if (p.camBase == CamBase::kStreaming && !given(camWindowOption)) p.camWindow = 16;
  p.exactBudget = !approximateBudget;
  p.scaleValues = !noValueScaling;
  p.validate();
  return p;
}

void CompressionOptions::requireUsedBy(const std::vector<Method>& methods) const {
  const auto uses = [&](Method m) {
    return std::find(methods.begin(), methods.end(), m) != methods.end();
  };
  // A given eps would be ignored in silence by other methods and by an exact budget, which
  // searches eps per head.
  if (epsOption && epsOption->count() > 0) {
    require(uses(Method::kKVMerger), "--eps applies to kvmerger only; drop it");
    require(approximateBudget,
            "--eps has no effect with an exact budget (the default), which searches eps per "
            "head to fit the budget; add --approximate-budget to merge at --eps as the paper "
            "does");
  }
  require(!(camBaseOption && camBaseOption->count() > 0) || uses(Method::kCaM),
          "--cam-base applies to cam only; add cam to the methods or drop --cam-base");
  require(!(positionsOption && positionsOption->count() > 0) || uses(Method::kStreaming),
          "--streaming-positions applies to streaming only (cam with --cam-base streaming always "
          "re-assigns positions inside the cache, as its authors' code does)");
}

}  // namespace kvs::cli
