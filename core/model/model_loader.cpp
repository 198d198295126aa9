#include "model/model_loader.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "model/hf_checkpoint.h"
#include "model/llama2c_checkpoint.h"
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

namespace {

// The folder when path names config.json or a .safetensors file inside a Hugging Face folder.
std::string resolve(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_regular_file(p, ec) &&
      (p.filename() == "config.json" || p.extension() == ".safetensors" ||
       p.filename() == "model.safetensors.index.json") &&
      isHfFolder(p.parent_path().string())) {
    return p.parent_path().string();
  }
  return path;
}

ModelFormat detect(const std::string& path) {
  std::error_code ec;
  require(fs::exists(path, ec), "model not found: " + path +
                                    "; give a llama2.c .bin file or a Hugging Face folder "
                                    "(config.json + model.safetensors)");
  if (fs::is_directory(path, ec)) {
    require(isHfFolder(path), "folder " + path +
                                  " has no config.json, so it is not a Hugging Face model "
                                  "folder; give such a folder or a llama2.c .bin file");
    return ModelFormat::kHuggingFace;
  }
  return ModelFormat::kLlama2c;
}

}  // namespace

std::optional<at::ScalarType> parseDtype(const std::string& name, const std::string& flag) {
  if (name.empty() || name == "auto") return std::nullopt;
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  if (name == "fp16" || name == "float16") return at::kHalf;
  throw KvsError(flag + " must be fp32, bf16, fp16 or auto, got '" + name + "'");
}

const char* dtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return "float32";
    case at::kBFloat16:
      return "bfloat16";
    case at::kHalf:
      return "float16";
    default:
      return c10::toString(type);
  }
}

at::Device parseDevice(const std::string& name) {
  if (name == "cpu") return at::kCPU;
  require(name == "cuda", "--device must be cpu or cuda, got '" + name + "'");
  require(at::hasCUDA(), std::string("--device cuda: ") +
                             (at::globalContext().hasCUDART()
                                  ? "no CUDA GPU is visible"
                                  : "this LibTorch build has no CUDA support (build against a "
                                    "CUDA LibTorch, see README)") +
                             "; run with --device cpu");
  return at::Device(at::kCUDA);
}

ModelInfo describeModel(const std::string& given) {
  ModelInfo info;
  info.path = resolve(given);
  info.format = detect(info.path);
  if (info.format == ModelFormat::kHuggingFace) {
    const HfCheckpoint ck = HfCheckpoint::open(info.path);
    info.config = ck.config();
    info.storedDtype = ck.storedDtype();
    info.weightBytes = ck.weightBytes();
    info.formatName = "Hugging Face safetensors (" + std::to_string(ck.shardCount()) +
                      (ck.shardCount() == 1 ? " file)" : " shards)");
    return info;
  }
  const Llama2cCheckpoint header = readLlama2cHeader(info.path);
  info.config = header.config;
  info.formatName = toString(header.format);
  info.weightBytes = info.config.parameterCount() * 4;
  return info;
}

std::unique_ptr<LlamaModel> loadModel(const std::string& given, const LoadOptions& options) {
  const std::string path = resolve(given);
  if (detect(path) == ModelFormat::kHuggingFace) {
    const HfCheckpoint ck = HfCheckpoint::open(path);
    LlamaWeights weights =
        ck.toLlamaWeights(options.dtype.value_or(ck.storedDtype()), options.progress);
    return std::make_unique<LlamaModel>(ck.config(), std::move(weights), options.device,
                                        options.kvDtype);
  }
  Llama2cCheckpoint ckpt = readLlama2cCheckpoint(path);
  LlamaWeights weights = fuseWeights(ckpt.config, ckpt.weights, options.progress);
  ckpt.weights = StackedWeights{};  // release the unfused copy before converting or moving
  const at::ScalarType dtype = options.dtype.value_or(at::kFloat);
  if (dtype != at::kFloat) weights = convertWeights(std::move(weights), dtype);
  return std::make_unique<LlamaModel>(ckpt.config, std::move(weights), options.device,
                                      options.kvDtype);
}

std::unique_ptr<LlamaModel> loadModel(const std::string& path, at::Device device) {
  LoadOptions options;
  options.device = device;
  return loadModel(path, options);
}

}  // namespace kvs
