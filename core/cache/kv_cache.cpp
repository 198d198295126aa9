#include "cache/kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "util/error.h"

namespace kvs {

KvCache::KvCache(const ModelConfig& config, at::TensorOptions options)
    : nLayers_(config.nLayers),
      nKvHeads_(config.nKvHeads),
      headDim_(config.headDim()),
      maxLength_(config.seqLen),
      options_(options),
      keys_(config.nLayers),
      values_(config.nLayers) {}

int KvCache::beginAppend(int n) {
  TORCH_CHECK(pending_ == 0, "KvCache: beginAppend while an append is pending");
  require(n > 0, "KvCache: nothing to append");
  require(length_ + n <= maxLength_, "the sequence would need " + std::to_string(length_ + n) +
                                         " positions but the model's context is " +
                                         std::to_string(maxLength_));
  grow(length_ + n);
  pending_ = n;
  return length_;
}

void KvCache::grow(int needed) {
  if (needed <= capacity_) return;
  const int newCapacity = std::min(maxLength_, std::max({needed, 2 * capacity_, 64}));
  for (int l = 0; l < nLayers_; ++l) {
    at::Tensor k = at::empty({nKvHeads_, newCapacity, headDim_}, options_);
    at::Tensor v = at::empty({nKvHeads_, newCapacity, headDim_}, options_);
    if (length_ > 0) {
      k.narrow(1, 0, length_).copy_(keys_[l].narrow(1, 0, length_));
      v.narrow(1, 0, length_).copy_(values_[l].narrow(1, 0, length_));
    }
    keys_[l] = std::move(k);
    values_[l] = std::move(v);
  }
  capacity_ = newCapacity;
}

void KvCache::write(int layer, const at::Tensor& k, const at::Tensor& v) {
  TORCH_CHECK(pending_ > 0, "KvCache: write without beginAppend");
  TORCH_CHECK(k.dim() == 3 && k.size(0) == pending_ && k.size(1) == nKvHeads_ &&
                  k.size(2) == headDim_ && v.sizes() == k.sizes(),
              "KvCache::write expects k, v as [n, Hkv, D]");
  keys_[layer].narrow(1, length_, pending_).copy_(k.transpose(0, 1));
  values_[layer].narrow(1, length_, pending_).copy_(v.transpose(0, 1));
}

void KvCache::commit() {
  length_ += pending_;
  pending_ = 0;
}

void KvCache::rollback() {
  pending_ = 0;
}

void KvCache::clear() {
  length_ = 0;
  pending_ = 0;
}

at::Tensor KvCache::keys(int layer) const {
  return keys_[layer].narrow(1, 0, length_ + pending_);
}

at::Tensor KvCache::values(int layer) const {
  return values_[layer].narrow(1, 0, length_ + pending_);
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (int l = 0; l < nLayers_; ++l) {
    if (keys_[l].defined()) total += keys_[l].nbytes() + values_[l].nbytes();
  }
  return total;
}

}  // namespace kvs
