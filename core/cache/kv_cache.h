#pragma once
// KvCache: storage only. It holds keys and values per layer and never decides what to keep;
// compression policies and their bookkeeping live elsewhere.

#include <ATen/core/Tensor.h>

#include <vector>

#include "model/model_config.h"

namespace kvs {

class KvCache {
 public:
  // Storage grows on demand (doubling, capped at the model's context), so the bytes held
  // track the tokens cached rather than the maximum context.
  explicit KvCache(const ModelConfig& config, at::TensorOptions options = at::kFloat);

  int length() const { return length_; }      // committed tokens
  int capacity() const { return capacity_; }  // tokens the storage holds without growing
  int maxLength() const { return maxLength_; }

  // Starts an append of n tokens at position length(); throws KvsError past the context.
  int beginAppend(int n);
  // k, v: [n, Hkv, D] for the pending tokens of one layer.
  void write(int layer, const at::Tensor& k, const at::Tensor& v);
  // Keeps the pending tokens, or drops them (e.g. after a cancelled forward).
  void commit();
  void rollback();
  void clear();

  // [Hkv, length + pending, D] views into the storage.
  at::Tensor keys(int layer) const;
  at::Tensor values(int layer) const;

  // Bytes held by the cache tensors (their allocated capacity), over all layers.
  int64_t bytes() const;

 private:
  void grow(int needed);

  int nLayers_, nKvHeads_, headDim_, maxLength_;
  at::TensorOptions options_;
  int length_ = 0;
  int pending_ = 0;
  int capacity_ = 0;
  std::vector<at::Tensor> keys_;    // per layer [Hkv, capacity, D]
  std::vector<at::Tensor> values_;  // per layer [Hkv, capacity, D]
};

}  // namespace kvs
