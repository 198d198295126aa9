#pragma once
// Hugging Face folders of the Llama-like families (Llama 2/3.x, Mistral, Qwen2/2.5, Qwen3):
// config.json <-> ModelConfig, and the tensor names and shapes a model of a given config holds
// (shared by the loader and the exporter).

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/model_config.h"

namespace kvs {

// Reads config.json of a LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM or
// Qwen3ForCausalLM; KvsError naming the field or the architecture. What a family may carry that
// is not implemented is refused, not ignored: rope_scaling other than llama3, attention_bias,
// mlp_bias, Qwen's use_sliding_window, a sliding_window outside Mistral, a Qwen3 config without
// head_dim.
// Every field it reads is checked for its JSON type (a string where a boolean belongs is refused,
// not converted) and its range (model_limits): rms_norm_eps in (0, 0.1], rope_theta in (0, 1e12],
// sizes in 1..their limit, heads that divide hidden_size, KV heads that divide the heads.
// The result has RopeStyle::kHalfSplit: Hugging Face stores q/k permuted for rotate-half.
ModelConfig readHfConfig(const std::string& configJsonPath);

// A small JSON file of a Hugging Face folder (config.json, model.safetensors.index.json): refused
// unless a regular file (a FIFO would block) of at most 64 MiB; KvsError naming the file when it
// does not parse. `what` names its role in messages.
nlohmann::json readHfJsonFile(const std::string& path, const std::string& what);

// config.json for a checkpoint of this config stored in dtype.
nlohmann::json hfConfigJson(const ModelConfig& config, at::ScalarType dtype);

struct HfTensorSpec {
  std::string name;  // e.g. "model.layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;
  int layer = -1;  // -1 for embedding, final norm and lm_head
};

// Every tensor of the checkpoint in file order (embedding, layers 0..L-1 with the family's q/k/v
// biases or q/k norms, final norm, lm_head when not tied).
std::vector<HfTensorSpec> hfTensorSpecs(const ModelConfig& config);

// "torch_dtype" names: float32, bfloat16, float16.
std::string hfDtypeName(at::ScalarType type);

}  // namespace kvs
