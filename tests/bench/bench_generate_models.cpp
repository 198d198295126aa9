// kvs_bench_generate's models: which checkpoint --model names, and the random-weight checkpoints
// (random110m, random350m) it writes once into the cache directory and reuses afterwards.

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "bench_generate_common.h"
#include "model/llama2c_checkpoint.h"
#include "model/llama_weights.h"
#include "util/error.h"

namespace bench_generate {

// ~110M parameters: dim 768, hidden 2048, 12 layers, 12 heads (MHA), vocab 32000, context 1024.
ModelConfig random110mConfig() {
  ModelConfig c;
  c.dim = 768;
  c.hiddenDim = 2048;
  c.nLayers = 12;
  c.nHeads = 12;
  c.nKvHeads = 12;
  c.vocabSize = 32000;
  c.seqLen = 1024;
  c.sharedClassifier = true;
  return c;
}

namespace {

// ~300M parameters with GQA (16 query heads over 4 KV heads): dim 1024, hidden 2816, 24 layers,
// vocab 32000, context 1024. The bfloat16 side by side with llama.cpp runs on it (its llama2.c
// converter takes GQA; llama-quantize makes the BF16 GGUF).
ModelConfig random350mConfig() {
  ModelConfig c = random110mConfig();
  c.dim = 1024;
  c.hiddenDim = 2816;
  c.nLayers = 24;
  c.nHeads = 16;
  c.nKvHeads = 4;
  return c;
}

bool sameShape(const ModelConfig& a, const ModelConfig& b) {
  return a.dim == b.dim && a.hiddenDim == b.hiddenDim && a.nLayers == b.nLayers &&
         a.nHeads == b.nHeads && a.nKvHeads == b.nKvHeads && a.vocabSize == b.vocabSize &&
         a.seqLen == b.seqLen && a.sharedClassifier == b.sharedClassifier;
}

// A checkpoint already at `path` is reused when its size and header match `config`.
bool checkpointUsable(const std::string& path, const ModelConfig& config) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec ||
      static_cast<int64_t>(size) != kvs::llama2cFileSize(config, kvs::Llama2cFormat::kLegacy)) {
    return false;
  }
  try {
    return sameShape(kvs::readLlama2cHeader(path).config, config);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

// Writes the random checkpoint in a child process, so that generating it (random weights, the
// writer's buffers) stays out of this process's peak RSS. Call before any LibTorch work here:
// the child must not inherit a running thread pool.
void ensureRandomCheckpoint(const std::string& path, const ModelConfig& config) {
  if (checkpointUsable(path, config)) {
    std::cerr << "reusing " << path << "\n";
    return;
  }
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::cerr << "writing random-weight checkpoint " << path << " ("
            << fmt(kvs::llama2cFileSize(config, kvs::Llama2cFormat::kLegacy) / 1e6, 0)
            << " MB) ...\n";
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = fork();
  kvs::require(pid >= 0, std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    int rc = 0;
    try {
      const auto t0 = Clock::now();
      kvs::writeLlama2cCheckpoint(path, config, kvs::randomWeights(config, /*seed=*/110),
                                  kvs::Llama2cFormat::kLegacy);
      std::cerr << "  written in " << fmt(seconds(t0, Clock::now()), 1) << " s\n";
    } catch (const std::exception& e) {
      std::cerr << "error writing " << path << ": " << e.what() << "\n";
      rc = 1;
    }
    std::cerr.flush();
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  kvs::require(WIFEXITED(status) && WEXITSTATUS(status) == 0 && checkpointUsable(path, config),
               "could not write the random checkpoint " + path);
}

ModelSpec resolveModel(const Options& o) {
  if (o.model == "stories260K")
    return {"stories260K", std::string(KVS_MODELS_DIR) + "/stories260K.bin"};
  if (o.model == "random110m") {
    const std::string path = o.cacheDir + "/random110m-legacy.bin";
    ensureRandomCheckpoint(path, random110mConfig());
    return {"random 110M", path};
  }
  if (o.model == "random350m") {
    const std::string path = o.cacheDir + "/random350m-legacy.bin";
    ensureRandomCheckpoint(path, random350mConfig());
    return {"random 350M (GQA)", path};
  }
  return {std::filesystem::path(o.model).stem().string(), o.model};
}

std::vector<int> randomTokens(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(0, vocab - 1);
  std::vector<int> ids(n);
  for (int& id : ids) id = dist(rng);
  return ids;
}

int greedyToken(const at::Tensor& logits) {
  return static_cast<int>(logits.argmax().item<int64_t>());
}

}  // namespace bench_generate
