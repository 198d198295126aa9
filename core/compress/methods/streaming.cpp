// StreamingLLM (Xiao et al., ICLR 2024): the first tokens (attention sinks) and the most recent
// ones; everything between is evicted.

#include <limits>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "compress/token_selection.h"

namespace kvs {
namespace {

class StreamingPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, int l) const override {
    std::vector<HeadPlan> heads;
    for (int h = 0; h < cache.nKvHeads(); ++h) {
      const auto& old = cache.cells(l, h);
      const int S = static_cast<int>(old.size());
      const auto keep = sinksAndRecent(S, params_.targetSlots(S), params_.sinkTokens);
      heads.push_back(HeadPlan::keep(old, keptIndices(keep)));
    }
    return heads;
  }
};

class StreamingMethod : public MethodWithPolicy<StreamingPolicy> {
 public:
  std::string name() const override { return "streaming"; }
  std::string title() const override { return "StreamingLLM"; }
  std::string summary() const override {
    return "Keeps the first tokens (attention sinks) and the most recent ones; evicts the rest.";
  }
  std::string reference() const override {
    return "Xiao et al., ICLR 2024 (arXiv 2309.17453); mit-han-lab/streaming-llm";
  }
  std::vector<std::string> parameterKeys() const override {
    return {
        "budget",      "budget_tokens", "sink_tokens", "streaming_positions", "decode_compression",
        "decode_chunk"};
  }
  std::vector<ParamSpec> ownParams() const override {
    return {wholeParam("sink-tokens", "sink_tokens", "Sink tokens",
                       "StreamingLLM (and CaM on the streaming base): first tokens always kept "
                       "(default 4)",
                       0, std::numeric_limits<int>::max(), &CompressionParams::sinkTokens),
            choiceParam("streaming-positions", "streaming_positions", "Positions",
                        "StreamingLLM: original (keys and queries at their tokens' positions) or "
                        "cache (slot s at position s: the authors' rolling RoPE)",
                        choiceNames(StreamingPositions{}), &CompressionParams::positions)};
  }
  bool usesCachePositions(const CompressionParams& p) const override {
    return p.positions == StreamingPositions::kCache;
  }
};

}  // namespace

const CompressionMethod& streamingMethod() {
  return theMethod<StreamingMethod>();
}

}  // namespace kvs
