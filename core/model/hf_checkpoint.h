#pragma once
// A Hugging Face folder of a Llama-like family (hf_config.h): config.json plus model.safetensors,
// or shards listed in model.safetensors.index.json. Opening maps every shard and checks that the
// tensors are exactly those of the declared architecture with that config (KvsError naming a
// missing, extra or misshapen one). Every file is refused unless it is a regular file (a FIFO would
// block), and each shard is checked on its own (see SafetensorsFile::open).

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/checkpoint_reader.h"
#include "model/llama_weights.h"
#include "model/model_config.h"
#include "model/safetensors_file.h"

namespace kvs {

class HfCheckpoint : public CheckpointReader {
 public:
  static HfCheckpoint open(const std::string& folder);

  // "Hugging Face safetensors (1 file)", "... (3 shards)".
  std::string formatName() const override;
  const std::string& path() const override { return folder_; }
  const std::string& folder() const { return folder_; }
  const ModelConfig& config() const override { return config_; }
  // The dtype the weights are stored in (that of the token embedding).
  at::ScalarType storedDtype() const override { return storedDtype_; }
  int64_t weightBytes() const override { return weightBytes_; }
  int shardCount() const { return static_cast<int>(files_.size()); }

  // Bytes of memory toLlamaWeights(dtype) makes the process hold: the copies it makes (fused
  // q/k/v and gate/up, converted tensors) plus, when includeViews, the tensors it keeps as views
  // of the mapping (resident once a model on the CPU uses them).
  int64_t loadBytes(at::ScalarType dtype, bool includeViews) const override;

  // A read-only view of a tensor in its mapped shard, by Hugging Face name
  // ("model.layers.0.self_attn.q_proj.weight": [Hq*D, C], q rows permuted for rotate-half).
  at::Tensor tensor(const std::string& name) const override;

  // The model's fused layout in dtype. Tensors already in dtype and not fused stay views of the
  // mapping; copied ones (fused q/k/v and gate/up, or converted) have their mapped pages released
  // as soon as they are copied, so the process never holds two full copies of the weights.
  // progress: after each layer (false stops the load).
  LlamaWeights toLlamaWeights(at::ScalarType dtype,
                              const LayerProgress& progress = {}) const override;

 private:
  void release(const std::string& name) const;

  std::string folder_;
  ModelConfig config_;
  at::ScalarType storedDtype_ = at::kFloat;
  int64_t weightBytes_ = 0;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, int> fileOf_;  // tensor name -> index into files_
};

// True when path is a folder holding config.json (the Hugging Face layout).
bool isHfFolder(const std::string& path);

// The format table's entry (checkpoint_formats.cpp). A Hugging Face folder is recognised by
// itself or by config.json, model.safetensors.index.json or a .safetensors file inside it: all
// of them open the folder.
bool recognisesHfCheckpoint(const std::string& path);
std::unique_ptr<CheckpointReader> openHfCheckpoint(const std::string& path);

}  // namespace kvs
