// H2O (Zhang et al., NeurIPS 2023): the recent tokens and the heavy hitters, the tokens with the
// most accumulated attention, per KV head; the rest is evicted.

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "compress/token_selection.h"

namespace kvs {
namespace {

class H2OPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, int l) const override {
    std::vector<HeadPlan> heads;
    for (int h = 0; h < cache.nKvHeads(); ++h) {
      const auto& old = cache.cells(l, h);
      heads.push_back(HeadPlan::keep(old, keptIndices(recentAndHeavy(old, params_))));
    }
    return heads;
  }
};

class H2OMethod : public MethodWithPolicy<H2OPolicy> {
 public:
  std::string name() const override { return "h2o"; }
  std::string title() const override { return "H2O"; }
  std::string summary() const override {
    return "Keeps the recent tokens and the heavy hitters (most accumulated attention) per KV "
           "head; evicts the rest.";
  }
  std::string reference() const override {
    return "Zhang et al., NeurIPS 2023 (arXiv 2306.14048); FMInference/H2O";
  }
  std::vector<std::string> parameterKeys() const override {
    return {"budget",        "budget_tokens",      "recent",      "protected",
            "gqa_reduction", "decode_compression", "decode_chunk"};
  }
};

}  // namespace

const CompressionMethod& h2oMethod() {
  return theMethod<H2OMethod>();
}

}  // namespace kvs
