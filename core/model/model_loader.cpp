#include "model/model_loader.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

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

// What the machine can give this process now: MemAvailable in /proc/meminfo (free memory plus
// the page cache the kernel can reclaim, so a model's own mapped file counts as available).
// nullopt where it cannot be read (not Linux): then nothing is checked.
std::optional<int64_t> availableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kib) == 1) return kib * 1024;
  }
  return std::nullopt;
}

std::string gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", bytes / double(int64_t{1} << 30));
  return text;
}

// The RoPE table (seq_len x D/2 complex64 = 4 * seq_len * D bytes), built once and copied once.
int64_t ropeTableBytes(const ModelConfig& c) {
  return 2 * int64_t{4} * c.seqLen * c.headDim();
}

// Refuses a load that cannot fit before anything is read: a 7B float32 checkpoint (25 GiB) on a
// 16 GiB machine would otherwise read until the kernel kills the process (or swaps the machine
// to a halt). need(dtype): bytes the load holds in that dtype.
void requireMemoryFor(const std::string& path, at::ScalarType dtype,
                      const std::function<int64_t(at::ScalarType)>& need) {
  const std::optional<int64_t> available = availableMemoryBytes();
  const int64_t bytes = need(dtype);
  if (!available || bytes <= *available) return;
  std::string fix = "close other programs or use a machine with more memory";
  if (dtype == at::kFloat) {
    const int64_t half = need(at::kBFloat16);
    if (half <= *available) {
      fix = "load it in bfloat16 (--dtype bf16), which needs " + gib(half) + ", or " + fix;
    }
  }
  throw KvsError("not enough memory to load " + path + ": its weights in " + dtypeName(dtype) +
                 " need " + gib(bytes) + " but " + gib(*available) +
                 " is available (MemAvailable in /proc/meminfo); " + fix);
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
    const HfCheckpoint ck = HfCheckpoint::open(path);  // maps the shards, reads no weights yet
    const at::ScalarType dtype = options.dtype.value_or(ck.storedDtype());
    // Tensors kept as views of the mapping stay in the page cache on the CPU; on a GPU only the
    // copies pass through host memory.
    requireMemoryFor(path, dtype, [&](at::ScalarType t) {
      return ck.loadBytes(t, options.device.is_cpu()) + ropeTableBytes(ck.config());
    });
    LlamaWeights weights = ck.toLlamaWeights(dtype, options.progress);
    return std::make_unique<LlamaModel>(ck.config(), std::move(weights), options.device,
                                        options.kvDtype);
  }
  const ModelConfig config = readLlama2cHeader(path).config;
  const at::ScalarType dtype = options.dtype.value_or(at::kFloat);
  // The fused copies in dtype are all the model holds (the file is unmapped after the load).
  requireMemoryFor(path, dtype, [&](at::ScalarType t) {
    return config.parameterCount() * static_cast<int64_t>(c10::elementSize(t)) +
           ropeTableBytes(config);
  });
  Llama2cCheckpoint ckpt = readLlama2cCheckpoint(path);  // views of the mapped file
  LlamaWeights weights = fuseWeights(ckpt.config, ckpt.weights, options.progress, dtype);
  ckpt.weights = StackedWeights{};  // unmaps the file
  return std::make_unique<LlamaModel>(ckpt.config, std::move(weights), options.device,
                                      options.kvDtype);
}

std::unique_ptr<LlamaModel> loadModel(const std::string& path, at::Device device) {
  LoadOptions options;
  options.device = device;
  return loadModel(path, options);
}

}  // namespace kvs
