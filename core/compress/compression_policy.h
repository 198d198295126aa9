#pragma once
// CompressionPolicy: decides what the cache keeps. It reads the cache and the SlotMap, returns a
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
  virtual std::vector<HeadPlan> planLayer(const KvCache& cache, const SlotMap& map,
                                          int layer) const = 0;
  // Every layer's plan at once (for inspection and tests).
  CompressionPlan plan(const KvCache& cache, const SlotMap& map) const;
  // Plans and applies layer by layer, so only one layer's plan and new storage exist at a time.
  void compress(KvCache& cache, SlotMap& map, int headroom = 0) const;
  // One layer: plan, apply, and with StreamingPositions::kCache move the kept keys to the
  // positions of their new slots.
  void compressLayer(KvCache& cache, SlotMap& map, int layer, int headroom = 0) const;
  const CompressionParams& params() const { return params_; }

 protected:
  CompressionParams params_;
};

// The policy for params.method (validated first); nullptr for the full cache.
std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& params);

// Policies, one per method (CaM's in cam_policy.h).
class StreamingPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, const SlotMap& map,
                                  int layer) const override;
};

class H2OPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, const SlotMap& map,
                                  int layer) const override;
};

class KVMergerPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, const SlotMap& map,
                                  int layer) const override;
};

}  // namespace kvs
