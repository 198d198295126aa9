#pragma once
// A plain-loop reference of the llama2.c forward pass (one token at a time, adjacent-pair RoPE),
// written from the model's definition to check LlamaModel against something independent of ATen.

#include <vector>

#include "model/llama_weights.h"
#include "model/model_config.h"

namespace kvs::test {

struct NaiveResult {
  std::vector<std::vector<float>> logits;  // [n][V]
  std::vector<std::vector<float>> keys;    // per layer: [n * Hkv * D], keys after RoPE
};

NaiveResult naiveForward(const ModelConfig& config, const StackedWeights& weights,
                         const std::vector<int>& tokens);

}  // namespace kvs::test
