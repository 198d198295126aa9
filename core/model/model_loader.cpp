#include "model/model_loader.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <functional>

#include "model/checkpoint_formats.h"
#include "util/error.h"

namespace kvs {

namespace {

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
  const CheckpointFormat& format = checkpointFormatFor(given);
  const std::unique_ptr<CheckpointReader> reader = format.open(given);  // reads no weights
  ModelInfo info;
  info.path = reader->path();
  info.format = format.name;
  info.formatName = reader->formatName();
  info.config = reader->config();
  info.storedDtype = reader->storedDtype();
  info.weightBytes = reader->weightBytes();
  return info;
}

std::unique_ptr<LlamaModel> loadModel(const std::string& given, const LoadOptions& options) {
  // Opening maps the weight files and reads no weights yet.
  std::unique_ptr<CheckpointReader> reader = checkpointFormatFor(given).open(given);
  const at::ScalarType dtype = options.dtype.value_or(reader->storedDtype());
  // Tensors kept as views of the mapping stay in the page cache on the CPU; on a GPU only the
  // copies pass through host memory.
  requireMemoryFor(reader->path(), dtype, [&](at::ScalarType t) {
    return reader->loadBytes(t, options.device.is_cpu()) + ropeTableBytes(reader->config());
  });
  LlamaWeights weights = reader->toLlamaWeights(dtype, options.progress);
  const ModelConfig config = reader->config();
  // Unmaps what the weights do not view (all of a llama2.c file: its weights are copies).
  reader.reset();
  return std::make_unique<LlamaModel>(config, std::move(weights), options.device, options.kvDtype);
}

std::unique_ptr<LlamaModel> loadModel(const std::string& path, at::Device device) {
  LoadOptions options;
  options.device = device;
  return loadModel(path, options);
}

}  // namespace kvs
