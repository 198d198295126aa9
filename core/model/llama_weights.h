#pragma once
// Weights of a Llama-2-architecture model, in two layouts:
//   StackedWeights: one tensor per kind with a leading layer axis, as checkpoints store them;
//   LlamaWeights:   per-layer tensors with fused projections, as the forward pass uses them
//                   (one matmul for q,k,v and one for gate,up keeps the op count per token small).
// All matrices are [out, in], as in PyTorch's nn.Linear.

#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>
#include <vector>

#include "model/model_config.h"

namespace kvs {

struct StackedWeights {
  at::Tensor embedding;   // [V, C]
  at::Tensor attnNorm;    // [L, C]
  at::Tensor wq;          // [L, Hq*D, C]
  at::Tensor wk;          // [L, Hkv*D, C]
  at::Tensor wv;          // [L, Hkv*D, C]
  at::Tensor wo;          // [L, C, Hq*D]
  at::Tensor ffnNorm;     // [L, C]
  at::Tensor w1;          // [L, F, C]  gate
  at::Tensor w2;          // [L, C, F]  down
  at::Tensor w3;          // [L, F, C]  up
  at::Tensor finalNorm;   // [C]
  at::Tensor classifier;  // [V, C], undefined when shared with the embedding
  // Only in the families that have them (ModelConfig::qkvBias, qkNorm), else undefined:
  at::Tensor bq;     // [L, Hq*D]
  at::Tensor bk;     // [L, Hkv*D]
  at::Tensor bv;     // [L, Hkv*D]
  at::Tensor qNorm;  // [L, D]
  at::Tensor kNorm;  // [L, D]
};

struct LayerWeights {
  at::Tensor attnNorm;  // [C]
  at::Tensor wqkv;      // [(Hq + 2*Hkv)*D, C]  rows: q, then k, then v
  at::Tensor wo;        // [C, Hq*D]
  at::Tensor ffnNorm;   // [C]
  at::Tensor w13;       // [2F, C]  rows: gate (w1), then up (w3)
  at::Tensor w2;        // [C, F]
  at::Tensor bqkv;      // [(Hq + 2*Hkv)*D] like wqkv's rows, or undefined (no biases)
  at::Tensor qNorm;     // [D] RMSNorm weight of each query head, or undefined
  at::Tensor kNorm;     // [D] the same for keys
};

struct LlamaWeights {
  at::Tensor embedding;  // [V, C]
  std::vector<LayerWeights> layers;
  at::Tensor finalNorm;   // [C]
  at::Tensor classifier;  // [V, C], the embedding itself when shared
};

// Called after each layer while weights are built, (layers done, layers in all); returning false
// stops the load (KvsError "loading was stopped").
using LayerProgress = std::function<bool(int done, int total)>;
// Throws that KvsError when progress says stop.
void reportLayer(const LayerProgress& progress, int done, int total);

// Checks every shape against config (KvsError naming the tensor) and builds the fused layout
// from copies (never views of `stacked`, which may be a mapped file), in dtype when given.
LlamaWeights fuseWeights(const ModelConfig& config, const StackedWeights& stacked,
                         const LayerProgress& progress = {},
                         std::optional<at::ScalarType> dtype = std::nullopt);

// Every tensor replaced by f(tensor), layer by layer; a shared classifier stays shared.
LlamaWeights mapWeights(LlamaWeights weights,
                        const std::function<at::Tensor(const at::Tensor&)>& f);

// Every tensor converted to dtype (the shared classifier stays shared); tensors already in dtype
// are kept as they are.
LlamaWeights convertWeights(LlamaWeights weights, at::ScalarType dtype);

// Random weights with the scale of a trained model (normal, std 0.02; norms 1), seeded. The
// tensors only some families have are drawn after all others (so a Llama's weights do not
// depend on them): biases normal with std 0.1, q/k norms 1 + normal with std 0.1 (not all ones,
// so that a norm whose weight is ignored shows).
StackedWeights randomWeights(const ModelConfig& config, uint64_t seed);

}  // namespace kvs
