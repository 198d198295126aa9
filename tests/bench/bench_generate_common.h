// What the kvs_bench_generate sources share: the parsed command line, the small timing and number
// formatting helpers every mode uses, and the functions one file provides to another.
//
//   bench_generate.cpp          options, main, the table row (--model, --header), --session
//   bench_generate_machine.cpp  threads, memory bandwidth, CPU (--machine), matmul breakdown
//   bench_generate_models.cpp   which checkpoint a --model names; writing the random ones
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace bench_generate {

using kvs::ModelConfig;
using Clock = std::chrono::steady_clock;

// The command line, as parseOptions (bench_generate.cpp) reads it.
struct Options {
  std::string mode;  // machine | header | model | breakdown
  std::string model;
  std::string cacheDir;
  double bandwidthGBs = 0;
  int reps = 5;
  int promptTokens = 512;
  int decodeSteps = 128;
  int threads = 0;      // 0 = LibTorch default via setComputeThreads(0): one per core
  int blasThreads = 0;  // 0 = leave OpenBLAS as it is
  int bandwidthMiB = 1024;
  std::string session;  // --session METHOD: time the session's decode path instead
  std::string dtype;    // --dtype: load the weights in this dtype (default: as stored)
  std::string kvDtype;  // --kv-dtype: the KV cache's dtype (default: the weights')
};

// Timing and number formatting that every mode uses.

inline double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline std::string fmt(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// ---------------------------------------------------------- bench_generate_machine.cpp

// LibTorch's threads from --threads, OpenBLAS's from --blas-threads; the allocator tuned.
void configureThreads(const Options& o);
// The thread counts in use and the core count, as the info and progress lines show them.
std::string threadsText();
int runMachine(const Options& o);
int runBreakdown(const Options& o);

// ---------------------------------------------------------- bench_generate_models.cpp

struct ModelSpec {
  std::string name;  // as shown in the table
  std::string path;
};

ModelConfig random110mConfig();
// Writes a random-weight checkpoint of `config` at `path` unless a usable one is there. It forks:
// call it before any LibTorch work in this process.
void ensureRandomCheckpoint(const std::string& path, const ModelConfig& config);
// The checkpoint --model names (writing a random one if needed); forks like the above.
ModelSpec resolveModel(const Options& o);
std::vector<int> randomTokens(int n, int vocab, uint32_t seed);
int greedyToken(const at::Tensor& logits);

}  // namespace bench_generate
