#pragma once
// A Llama-2-architecture decoder in LibTorch (glossary of dimensions in model_config.h), with the
// variations of the Llama-like families its config spells out: GQA, llama3 RoPE scaling,
// Mistral's sliding window, Qwen2's q/k/v biases, Qwen3's q/k norms and separate head dim.
// One forward() serves both phases: prefill passes the whole prompt in one batched causal pass,
// decode passes one token; both append to the KvCache and attend over everything cached.

#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <vector>

#include "model/llama_weights.h"
#include "model/model_config.h"
#include "model/rope.h"

namespace kvs {

class KvCache;
class LayerObserver;

enum class LogitsMode {
  kLast,  // logits of the last new token only: [V]
  kAll,   // logits of every new token: [n, V]
};

class LlamaModel {
 public:
  // The weights' dtype (float32, bfloat16 or float16) sets the compute dtype, except that fp16 on
  // the CPU computes in float32 (LibTorch's CPU kernels lack fp16 matmul, softmax, silu): weights
  // stay fp16 in memory and are widened one matrix at a time. RMSNorm, RoPE and softmax run in
  // float32 in every case, as Hugging Face's Llama does. kvDtype: the cache's dtype, default the
  // weights'.
  LlamaModel(ModelConfig config, LlamaWeights weights, at::Device device = at::kCPU,
             std::optional<at::ScalarType> kvDtype = std::nullopt);

  const ModelConfig& config() const { return config_; }
  at::Device device() const { return device_; }
  at::ScalarType weightDtype() const { return weightDtype_; }
  at::ScalarType computeDtype() const { return computeDtype_; }
  at::ScalarType kvDtype() const { return kvDtype_; }
  // Bytes the weights hold (the shared classifier counted once).
  int64_t weightBytes() const;

  // Runs tokens at positions cache.length() .. cache.length()+n-1, appends their keys and
  // values to cache and returns float32 logits (see LogitsMode) on the model's device.
  // On an exception the cache is left as it was.
  at::Tensor forward(const std::vector<int>& tokens, KvCache& cache,
                     LogitsMode mode = LogitsMode::kLast, LayerObserver* observer = nullptr) const;

  // A cache with this model's shape, on its device.
  KvCache makeCache() const;

 private:
  at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight) const;
  // ropePos: the RoPE position of x's first token (KvCache::ropeShift below its own position).
  at::Tensor attention(int layer, const at::Tensor& x, KvCache& cache, int ropePos,
                       LayerObserver* observer) const;
  at::Tensor feedForward(int layer, const at::Tensor& x) const;

  ModelConfig config_;
  LlamaWeights weights_;
  at::Device device_;
  at::ScalarType weightDtype_, computeDtype_, kvDtype_;
  RotaryEmbedding rope_;
};

}  // namespace kvs
