#pragma once
// One entry point for every model format: a llama2.c .bin file or a Hugging Face folder
// (config.json + safetensors). The format is chosen from the path by the table in
// checkpoint_formats.h; this file knows no format itself.

#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>

#include "model/llama_model.h"
#include "model/model_config.h"

namespace kvs {

struct ModelInfo {
  std::string path;        // the folder for Hugging Face checkpoints
  std::string format;      // the format table's name: "llama2.c", "Hugging Face"
  std::string formatName;  // e.g. "llama2.c legacy (v0)", "Hugging Face safetensors (2 shards)"
  ModelConfig config;
  at::ScalarType storedDtype = at::kFloat;
  int64_t weightBytes = 0;  // as stored
};

// Cheap: reads headers and config only (a Hugging Face folder's shards are mapped, not read).
// A path to a file inside a Hugging Face folder (config.json, a .safetensors) means the folder.
ModelInfo describeModel(const std::string& path);

struct LoadOptions {
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> dtype;    // weights and compute; default: as stored
  std::optional<at::ScalarType> kvDtype;  // the KV cache; default: the weights' dtype
  LayerProgress progress;                 // after each layer's weights; false stops the load
};

// "fp32", "bf16", "fp16" (also "float32", "bfloat16", "float16"); "auto" or "" = nullopt.
// KvsError naming the flag otherwise.
std::optional<at::ScalarType> parseDtype(const std::string& name, const std::string& flag);
// "float32", "bfloat16", "float16" (as Hugging Face's torch_dtype).
const char* dtypeName(at::ScalarType type);
// "cpu" or "cuda" (KvsError when CUDA is asked for and LibTorch has none or no GPU is visible).
at::Device parseDevice(const std::string& name);

// Before reading any weights, checks the memory the load will hold (weights in the load dtype,
// the RoPE table) against MemAvailable and refuses with both figures when it cannot fit.
// llama2.c files are mapped and copied into the fused layout once, never read into a buffer first.
std::unique_ptr<LlamaModel> loadModel(const std::string& path, const LoadOptions& options);
// The same with default options on device: the dtype the weights are stored in.
std::unique_ptr<LlamaModel> loadModel(const std::string& path, at::Device device = at::kCPU);

}  // namespace kvs
