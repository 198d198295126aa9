#pragma once
// Taps on the forward pass: recording and analysis observe tensors by name and never change the
// model code. Tensors are views into live buffers: copy what you keep.

#include <ATen/core/Tensor.h>

#include <string>

namespace kvs {

class LayerObserver {
 public:
  virtual ~LayerObserver() = default;

  // Once per forward call, before layer 0: the n new tokens sit at positions first .. first+n-1.
  virtual void beginForward(int /*firstPos*/, int /*n*/) {}

  // Per layer, in this order:
  //   "k_prerope" [Hkv, n, D]  key projection before RoPE
  //   "k"         [Hkv, n, D]  keys after RoPE, as stored in the cache
  //   "v"         [Hkv, n, D]  values
  //   "q"         [Hq, n, D]   queries after RoPE
  //   "attn"      [Hq, n, Tk]  softmax attention of the new queries over the layer's cache slots
  //                            (only when wantsAttention(); Tk = the longest KV head's slots + n,
  //                            which is firstPos + n until the cache is compressed; slots a
  //                            head does not hold get 0)
  //   "attn_out"  [Hq, n, D]   attention output per head (probabilities times values)
  virtual void onTensor(int layer, const std::string& name, const at::Tensor& tensor) = 0;

  virtual bool wantsAttention() const { return false; }
};

}  // namespace kvs
