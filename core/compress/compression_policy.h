#pragma once
// CompressionPolicy: decides what the cache keeps. It reads the cache and the SlotMap, returns a
// plan, and owns no tensors beyond the call; applyPlan() carries the plan out.

#include <memory>

#include "compress/compression_params.h"
#include "compress/compression_plan.h"

namespace kvs {

class KvCache;

class CompressionPolicy {
 public:
  explicit CompressionPolicy(CompressionParams params) : params_(std::move(params)) {}
  virtual ~CompressionPolicy() = default;

  // A plan for every (layer, KV head) that changes; KvsError when the budget cannot be met.
  virtual CompressionPlan plan(const KvCache& cache, const SlotMap& map) const = 0;
  const CompressionParams& params() const { return params_; }

 protected:
  CompressionParams params_;
};

// The policy for params.method (validated first); nullptr for the full cache.
std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& params);

// Policies, one per method.
class StreamingPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  CompressionPlan plan(const KvCache& cache, const SlotMap& map) const override;
};

class H2OPolicy : public CompressionPolicy {  // also CaM, which merges the evicted values
 public:
  using CompressionPolicy::CompressionPolicy;
  CompressionPlan plan(const KvCache& cache, const SlotMap& map) const override;
};

class KVMergerPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  CompressionPlan plan(const KvCache& cache, const SlotMap& map) const override;
};

}  // namespace kvs
