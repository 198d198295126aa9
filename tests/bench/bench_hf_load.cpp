// kvs_bench_hf_load: loading a Hugging Face folder, memory-mapped. Generates a random-weight
// Llama-2-shaped folder with the project's exporter (tensor by tensor, so generating a 7B-shaped
// folder needs well under 1 GB of RAM), then measures, in a fresh process, the load time, the
// resident memory after loading and at the end (VmRSS, VmHWM from /proc/self/status), prefill time
// and decode tokens/s, and prints a Markdown table.
//
//   kvs_bench_hf_load --shape 1b|7b|llama3-8b|qwen2.5-7b [--dir DIR] [--dtype bf16|fp16|fp32]
//   [--prompt-tokens 32]
//                     [--decode-steps 16] [--threads N] [--keep]
//
// 1b: TinyLlama-1.1B's shape (Llama 2 architecture with GQA), 2.2 GB in bf16, one file.
// 7b: Llama-2-7B's shape, 13.5 GB in bf16, shards of at most 4 GB. Not run by ctest.
// llama3-8b: Llama-3.1-8B's (GQA 32/8, vocabulary 128256, llama3 RoPE scaling), 16 GB in bf16;
// qwen2.5-7b: Qwen2.5-7B's (GQA 28/4, q/k/v biases, vocabulary 152064), 15.2 GB; both sharded.
// The folder is deleted afterwards unless --keep. Loading reads a just-written folder, so the
// files are usually in the page cache: the load time is that of a warm cache.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "cache/kv_cache.h"
#include "model/hf_export.h"
#include "model/model_loader.h"
#include "util/runtime.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// kB value of a /proc/self/status field, in GiB.
double statusGiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stod(line.substr(field.size() + 1)) / 1048576.0;
  }
  return -1;
}

kvs::ModelConfig shapeConfig(const std::string& shape) {
  kvs::ModelConfig c;
  if (shape == "1b") {  // TinyLlama-1.1B
    c.dim = 2048, c.hiddenDim = 5632, c.nLayers = 22, c.nHeads = 32, c.nKvHeads = 4;
    c.seqLen = 2048;
  } else if (shape == "7b") {  // Llama-2-7B
    c.dim = 4096, c.hiddenDim = 11008, c.nLayers = 32, c.nHeads = 32, c.nKvHeads = 32;
    c.seqLen = 4096;
  } else if (shape == "llama3-8b") {  // Llama-3.1-8B
    c.dim = 4096, c.hiddenDim = 14336, c.nLayers = 32, c.nHeads = 32, c.nKvHeads = 8;
    c.seqLen = 131072, c.ropeTheta = 500000.0f, c.ropeScaling = {8.0f, 1.0f, 4.0f, 8192};
  } else if (shape == "qwen2.5-7b") {  // Qwen2.5-7B
    c.dim = 3584, c.hiddenDim = 18944, c.nLayers = 28, c.nHeads = 28, c.nKvHeads = 4;
    c.seqLen = 32768, c.ropeTheta = 1e6f, c.family = kvs::ModelFamily::kQwen2, c.qkvBias = true;
  } else {
    throw std::runtime_error("--shape must be 1b, 7b, llama3-8b or qwen2.5-7b");
  }
  c.vocabSize = shape == "llama3-8b" ? 128256 : shape == "qwen2.5-7b" ? 152064 : 32000;
  c.normEps = c.family == kvs::ModelFamily::kQwen2 ? 1e-6f : 1e-5f;
  c.sharedClassifier = false;
  return c;
}

struct Options {
  std::string shape = "1b", dir = fs::temp_directory_path().string(), dtype = "bf16";
  std::string measure;  // internal: the folder to measure in this process
  int promptTokens = 32, decodeSteps = 16, threads = 0;
  double generateSeconds = 0;
  bool keep = false;
};

// The child process: load, prefill, decode; one table row on stdout.
int measure(const Options& o) {
  kvs::tuneAllocator();
  kvs::setComputeThreads(o.threads);
  const double before = statusGiB("VmRSS");
  kvs::LoadOptions load;
  load.dtype = kvs::parseDtype(o.dtype, "--dtype");
  auto t = Clock::now();
  const auto model = kvs::loadModel(o.measure, load);
  const double loadSeconds = since(t);
  const double afterLoad = statusGiB("VmRSS");
  const kvs::ModelConfig& c = model->config();

  std::vector<int> prompt(o.promptTokens);
  for (int i = 0; i < o.promptTokens; ++i) prompt[i] = 1 + (i * 7919) % (c.vocabSize - 1);
  kvs::KvCache cache = model->makeCache();
  t = Clock::now();
  at::Tensor logits = model->forward(prompt, cache);
  const double prefillSeconds = since(t);
  t = Clock::now();
  for (int s = 0; s < o.decodeSteps; ++s) {
    logits = model->forward({static_cast<int>(logits.argmax().item<int64_t>())}, cache);
  }
  const double decodeSeconds = since(t);
  const double weightsGiB = model->weightBytes() / 1073741824.0;
  const double peak = statusGiB("VmHWM");
  std::printf(
      "| %s | %.2f B | %s | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.3f |\n",
      o.shape.c_str(), c.parameterCount() / 1e9, o.dtype.c_str(), weightsGiB, o.generateSeconds,
      loadSeconds, afterLoad - before, peak, peak / weightsGiB, prefillSeconds,
      o.decodeSteps / decodeSeconds, cache.memory().allocated / 1073741824.0);
  return 0;
}

int run(const Options& o, const char* self) {
  const kvs::ModelConfig c = shapeConfig(o.shape);
  const std::string folder = o.dir + "/kvs-bench-" + o.shape + "-" + o.dtype;
  double generateSeconds = 0;
  if (!fs::exists(folder)) {
    std::cerr << "writing " << folder << " ...\n";
    kvs::HfExportOptions options;
    options.dtype = kvs::parseDtype(o.dtype, "--dtype").value();
    options.maxShardBytes = o.shape != "1b" ? int64_t{4} << 30 : 0;
    int index = 0;
    auto source = [&](const std::string&, const std::vector<int64_t>& shape) {
      if (shape.size() == 1) return at::ones(shape);  // norms (and Qwen2's biases)
      auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + index++);
      return at::normal(0.0, 0.02, shape, gen, at::TensorOptions().dtype(at::kFloat));
    };
    const auto t = Clock::now();
    kvs::writeHfCheckpoint(folder, c, source, options);
    generateSeconds = since(t);
  }
  std::cout << "| shape | parameters | dtype | weights GiB | generate s | load s | RSS after load "
               "GiB | peak RSS GiB | peak / weights | prefill "
            << o.promptTokens << " tok s | decode tok/s | KV cache GiB |\n"
            << "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
            << std::flush;
  // A fresh process, so that the peak RSS is the loaded model's, not the generator's.
  std::vector<std::string> args = {self,
                                   "--measure",
                                   folder,
                                   "--shape",
                                   o.shape,
                                   "--dtype",
                                   o.dtype,
                                   "--prompt-tokens",
                                   std::to_string(o.promptTokens),
                                   "--decode-steps",
                                   std::to_string(o.decodeSteps),
                                   "--threads",
                                   std::to_string(o.threads),
                                   "--generate-seconds",
                                   std::to_string(generateSeconds)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int status = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0 ||
      waitpid(pid, &status, 0) < 0) {
    throw std::runtime_error("cannot start the measuring process");
  }
  if (!o.keep) fs::remove_all(folder);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--shape")
        o.shape = next();
      else if (a == "--dir")
        o.dir = next();
      else if (a == "--dtype")
        o.dtype = next();
      else if (a == "--measure")
        o.measure = next();
      else if (a == "--prompt-tokens")
        o.promptTokens = std::stoi(next());
      else if (a == "--decode-steps")
        o.decodeSteps = std::stoi(next());
      else if (a == "--threads")
        o.threads = std::stoi(next());
      else if (a == "--generate-seconds")
        o.generateSeconds = std::stod(next());
      else if (a == "--keep")
        o.keep = true;
      else {
        std::cerr << "usage: see the comment at the top of tests/bench/bench_hf_load.cpp\n";
        return 2;
      }
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
  }
  try {
    return o.measure.empty() ? run(o, argv[0]) : measure(o);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
