#pragma once
// CompressionPolicy: decides what the cache keeps. It reads the cache and its cells, returns a
// plan, and owns no tensors beyond the call; applyPlan() or compress() carries it out.

#include <memory>

#include "compress/compression_params.h"
#include "compress/compression_plan.h"

namespace kvs {

class KvCache;

class CompressionPolicy {
 public:
  explicit CompressionPolicy(CompressionParams params) : params_(std::move(params)) {}
  virtual ~CompressionPolicy() = default;

  // The plan of one layer, a HeadPlan per KV head (empty: the layer stays as it is); KvsError
  // when the budget cannot be met.
  virtual std::vector<HeadPlan> planLayer(const KvCache& cache, int layer) const = 0;
  // Every layer's plan at once (for inspection and tests).
  CompressionPlan plan(const KvCache& cache) const;
  // Plans and applies layer by layer, so only one layer's plan and new storage exist at a time.
  void compress(KvCache& cache, int headroom = 0) const;
  // One layer: plan, apply, and with StreamingPositions::kCache move the kept keys to the
  // positions of their new slots.
  void compressLayer(KvCache& cache, int layer, int headroom = 0) const;
  const CompressionParams& params() const { return params_; }
  // A kept prefill's adjacent key cosines [L][Hkv][T-1] (PrefillState::adjacentCos) for plans of
  // that uncompressed cache: KVMerger reads them instead of computing them from the keys, so the
  // app's merging layout for a new eps needs no cosine work. Not owned; must outlive the policy.
  void reuseAdjacentCosines(const std::vector<std::vector<std::vector<float>>>* cosines) {
    adjacentCos_ = cosines;
  }
  // Plans for drawing only (the app's merging layout): slots, protection and decisions without
  // the weights, so KVMerger with reused cosines does no tensor work; applyLayerPlan refuses them.
  void planSlotsOnly(bool on) { slotsOnly_ = on; }

 protected:
  CompressionParams params_;
  bool slotsOnly_ = false;
  const std::vector<std::vector<std::vector<float>>>* adjacentCos_ = nullptr;
};

// The policy of params.method from the registry (params validated first); nullptr for the full
// cache. Each method's policy class lives in its own file (compress/methods/).
std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& params);

}  // namespace kvs
