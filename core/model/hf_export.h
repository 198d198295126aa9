#pragma once
// Writes a Hugging Face folder of any supported family (config.json from ModelConfig::family,
// model.safetensors or shards with model.safetensors.index.json, optionally tokenizer.model) that
// transformers and this app load. The folder appears complete or not at all: it is written under a
// temporary name and renamed.

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "model/llama_weights.h"
#include "model/model_config.h"

namespace kvs {

struct HfExportOptions {
  at::ScalarType dtype = at::kFloat;  // F32, F16 or BF16 in the files
  int64_t maxShardBytes = 0;          // 0: one model.safetensors; else shards of at most this
                                      // (a tensor larger than it gets a shard of its own)
  // Copied into the folder when not empty: a SentencePiece file as tokenizer.model; a
  // tokenizer.json as itself, with the tokenizer_config.json beside it when there is one.
  std::string tokenizerPath;
};

// Returns the tensor with a Hugging Face name and shape (see hfTensorSpecs), already in the
// Hugging Face layout (q/k permuted for rotate-half). Called once per tensor, in file order, so a
// source can produce the weights layer by layer without holding them all.
using HfTensorSource =
    std::function<at::Tensor(const std::string& name, const std::vector<int64_t>& shape)>;

void writeHfCheckpoint(const std::string& folder, const ModelConfig& config,
                       const HfTensorSource& source, const HfExportOptions& options);

// From checkpoint-layout weights: permutes q/k as Hugging Face's conversion script does when
// config.ropeStyle is kAdjacentPairs (llama2.c, Meta). The written config has kHalfSplit.
void writeHfCheckpoint(const std::string& folder, const ModelConfig& config,
                       const StackedWeights& weights, const HfExportOptions& options);

}  // namespace kvs
