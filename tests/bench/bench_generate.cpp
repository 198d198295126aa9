// kvs_bench_generate: prefill and decode speed of LlamaModel::forward on the CPU, against the
// memory-bandwidth bound of decode. One model per process so that peak RSS belongs to that model;
// tests/bench/run_benchmarks.sh runs it once per model and assembles the Markdown table.
//
//   kvs_bench_generate --machine                 bandwidth, threads, BLAS ("info" lines)
//   kvs_bench_generate --header                  the table header
//   kvs_bench_generate --model stories260K|random110m|FILE --bandwidth-gbs X
//                                                one table row ("row"), targets ("target")
//   kvs_bench_generate --breakdown               where decode time goes (matmul micro-benchmark)
//   kvs_bench_generate --model M --session METHOD
//                                                decode through the session's one decode path
//                                                (sampler, hooks, per-step bytes; METHOD full,
//                                                h2o, ... adds attention tracking), one "session"
//                                                line
//
// Output lines start with a tag (info, row, target, note); progress goes to stderr.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <dlfcn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "kernels/gemv.h"
#include "model/llama2c_checkpoint.h"
#include "model/llama_model.h"
#include "model/llama_weights.h"
#include "model/model_config.h"
#include "model/model_loader.h"
#include "session/variant.h"
#include "util/blas_info.h"
#include "util/error.h"
#include "util/runtime.h"

namespace {

using kvs::KvCache;
using kvs::LlamaModel;
using kvs::ModelConfig;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------------------------ options

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
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "error: " << error << "\n"
            << "usage: kvs_bench_generate (--machine | --header | --breakdown |\n"
            << "                           --model stories260K|random110m|random350m|FILE\n"
            << "                           --bandwidth-gbs X) [--dtype fp32|bf16|fp16]\n"
            << "       [--reps N] [--prompt-tokens N] [--decode-steps N] [--threads N]\n"
            << "       [--blas-threads N] [--cache-dir DIR] [--bandwidth-mib N]\n";
  std::exit(2);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  const char* envCache = std::getenv("KVS_BENCH_CACHE");
  o.cacheDir = envCache && *envCache
                   ? envCache
                   : (std::filesystem::temp_directory_path() / "kvstudio-bench").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto intValue = [&]() {
      const std::string v = value();
      try {
        return std::stoi(v);
      } catch (...) {
        usage(a + " needs an integer, got '" + v + "'");
      }
    };
    if (a == "--machine") {
      o.mode = "machine";
    } else if (a == "--header") {
      o.mode = "header";
    } else if (a == "--breakdown") {
      o.mode = "breakdown";
    } else if (a == "--model") {
      o.mode = "model";
      o.model = value();
    } else if (a == "--bandwidth-gbs") {
      o.bandwidthGBs = std::atof(value().c_str());
    } else if (a == "--cache-dir") {
      o.cacheDir = value();
    } else if (a == "--reps") {
      o.reps = intValue();
    } else if (a == "--prompt-tokens") {
      o.promptTokens = intValue();
    } else if (a == "--decode-steps") {
      o.decodeSteps = intValue();
    } else if (a == "--threads") {
      o.threads = intValue();
    } else if (a == "--blas-threads") {
      o.blasThreads = intValue();
    } else if (a == "--bandwidth-mib") {
      o.bandwidthMiB = intValue();
    } else if (a == "--session") {
      o.session = value();
    } else if (a == "--dtype") {
      o.dtype = value();
    } else if (a == "-h" || a == "--help") {
      usage("help requested");
    } else {
      usage("unknown argument '" + a + "'");
    }
  }
  if (o.mode.empty()) usage("choose one of --machine, --header, --model, --breakdown");
  if (o.reps < 1 || o.promptTokens < 1 || o.decodeSteps < 1 || o.bandwidthMiB < 16) {
    usage("--reps, --prompt-tokens, --decode-steps must be >= 1, --bandwidth-mib >= 16");
  }
  return o;
}

// ------------------------------------------------------------------------------------ helpers

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string fmt(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// A value in kB from /proc/self/status (VmHWM = peak RSS, VmRSS = current RSS); -1 if absent.
int64_t procStatusKb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  }
  return -1;
}

double mib(int64_t kb) {
  return kb / 1024.0;
}

// OpenBLAS's own pool, for --blas-threads; reached through dlsym so any BLAS links.
void setOpenblasThreads(int n) {
  using Fn = void (*)(int);
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn) {
    fn(n);
  } else {
    std::cerr << "note: openblas_set_num_threads not found; --blas-threads ignored\n";
  }
}

void configureThreads(const Options& o) {
  kvs::tuneAllocator();
  kvs::setComputeThreads(o.threads);
  if (o.blasThreads > 0) setOpenblasThreads(o.blasThreads);
}

std::string threadsText() {
  return kvs::describe(kvs::currentThreads()) + " (" +
         std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " cores)";
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

// ------------------------------------------------------------------------------------ bandwidth

// Runs body(begin, end) over [0, bytes) split into `threads` contiguous chunks.
void parallelChunks(size_t bytes, int threads, const std::function<void(size_t, size_t)>& body) {
  if (threads <= 1) {
    body(0, bytes);
    return;
  }
  std::vector<std::thread> pool;
  const size_t chunk = (bytes / threads) & ~size_t{63};
  for (int t = 0; t < threads; ++t) {
    const size_t begin = t * chunk, end = t == threads - 1 ? bytes : begin + chunk;
    pool.emplace_back(body, begin, end);
  }
  for (auto& th : pool) th.join();
}

struct Bandwidth {
  double copy1 = 0;  // GB/s, memcpy on one thread, read + write bytes counted (STREAM style)
  double copyN = 0;  // same with one thread per core
  double read1 = 0;  // GB/s, read-only sum on one thread
  double readN = 0;  // same with one thread per core
  // The bound for decode, which streams weights it only reads: the best figure measured.
  double best() const { return std::max({copy1, copyN, read1, readN}); }
};

Bandwidth measureBandwidth(int mibSize, int reps) {
  const size_t bytes = size_t(mibSize) << 20;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* src = static_cast<char*>(std::aligned_alloc(4096, bytes));
  auto* dst = static_cast<char*>(std::aligned_alloc(4096, bytes));
  kvs::require(src && dst, "could not allocate 2 x " + std::to_string(mibSize) + " MiB");
  // Touch every page first so page faults stay out of the timings.
  parallelChunks(bytes, cores, [&](size_t b, size_t e) {
    std::memset(src + b, 1, e - b);
    std::memset(dst + b, 0, e - b);
  });

  auto best = [&](const std::function<void()>& run) {
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = Clock::now();
      run();
      times.push_back(seconds(t0, Clock::now()));
    }
    return *std::min_element(times.begin(), times.end());
  };
  Bandwidth bw;
  const double gb = bytes / 1e9;
  bw.copy1 = 2 * gb / best([&] { std::memcpy(dst, src, bytes); });
  bw.copyN = 2 * gb / best([&] {
               parallelChunks(bytes, cores,
                              [&](size_t b, size_t e) { std::memcpy(dst + b, src + b, e - b); });
             });
  std::vector<uint64_t> sums(cores);
  auto readAll = [&](int threads) {
    parallelChunks(bytes, threads, [&](size_t b, size_t e) {
      const auto* p = reinterpret_cast<const uint64_t*>(src + b);
      const size_t n = (e - b) / 8;
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
      }
      sums[b * threads / bytes] = s0 + s1 + s2 + s3;
    });
  };
  bw.read1 = gb / best([&] { readAll(1); });
  bw.readN = gb / best([&] { readAll(cores); });
  static volatile uint64_t sink = 0;  // keeps the sums, and so the reads, alive
  for (uint64_t v : sums) sink = sink + v;
  std::free(src);
  std::free(dst);
  return bw;
}

// ------------------------------------------------------------------------------------ models

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

bool sameShape(const ModelConfig& a, const ModelConfig& b) {
  return a.dim == b.dim && a.hiddenDim == b.hiddenDim && a.nLayers == b.nLayers &&
         a.nHeads == b.nHeads && a.nKvHeads == b.nKvHeads && a.vocabSize == b.vocabSize &&
         a.seqLen == b.seqLen && a.sharedClassifier == b.sharedClassifier;
}

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

struct ModelSpec {
  std::string name;  // as shown in the table
  std::string path;
};

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

std::string paramsText(int64_t n) {
  return n >= 1000000 ? fmt(n / 1e6, 1) + "M" : fmt(n / 1e3, 0) + "K";
}

std::string bytesText(double bytes) {
  if (bytes >= 1e9) return fmt(bytes / 1e9, 2) + " GB";
  if (bytes >= 1e6) return fmt(bytes / 1e6, 1) + " MB";
  return fmt(bytes / 1e3, 0) + " kB";
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

// ------------------------------------------------------------------------------------ model run

int runModel(const Options& o) {
  if (o.bandwidthGBs <= 0) usage("--model needs --bandwidth-gbs (from --machine)");
  const ModelSpec spec = resolveModel(o);  // may fork: before any LibTorch work
  configureThreads(o);

  const auto t0 = Clock::now();
  kvs::LoadOptions load;
  load.dtype = kvs::parseDtype(o.dtype, "--dtype");
  const std::unique_ptr<LlamaModel> model = kvs::loadModel(spec.path, load);
  const double loadSeconds = seconds(t0, Clock::now());
  const int64_t rssAfterLoadKb = procStatusKb("VmRSS");
  const ModelConfig& c = model->config();
  kvs::require(o.promptTokens <= c.seqLen, "--prompt-tokens " + std::to_string(o.promptTokens) +
                                               " exceeds the context of " + spec.name + " (" +
                                               std::to_string(c.seqLen) + ")");
  kvs::require(o.decodeSteps < c.seqLen, "--decode-steps must be below the context");

  // Decode continues the measured prefill when the context leaves room; otherwise it follows a
  // shorter prefill that does (stories260K's context is 512 positions).
  const int decodePrompt = std::min(o.promptTokens, c.seqLen - o.decodeSteps);
  const std::vector<int> prompt = randomTokens(o.promptTokens, c.vocabSize, /*seed=*/2024);
  const std::vector<int> decodePromptIds(prompt.begin(), prompt.begin() + decodePrompt);
  KvCache cache = model->makeCache();
  bool finite = true;

  // One rep: prefill (timed), then decode steps (timed). The first call is a warm-up, also
  // growing the cache to its full size, so the timed reps see steady state.
  auto rep = [&](int steps, double* prefillSec, double* decodeSec) {
    cache.clear();
    auto a = Clock::now();
    at::Tensor logits = model->forward(prompt, cache);
    *prefillSec = seconds(a, Clock::now());
    finite = finite && at::isfinite(logits).all().item<bool>();
    if (decodePrompt != o.promptTokens) {
      cache.clear();
      logits = model->forward(decodePromptIds, cache);
    }
    int token = greedyToken(logits);
    a = Clock::now();
    for (int s = 0; s < steps; ++s) {
      logits = model->forward({token}, cache);
      token = greedyToken(logits);
    }
    *decodeSec = seconds(a, Clock::now());
    finite = finite && at::isfinite(logits).all().item<bool>();
  };

  std::cerr << spec.name << ": loaded in " << fmt(loadSeconds, 2) << " s, threads " << threadsText()
            << "; warm-up ...\n";
  double p = 0, d = 0;
  rep(std::min(o.decodeSteps, 8), &p, &d);
  std::vector<double> prefillRate, decodeRate;
  for (int r = 0; r < o.reps; ++r) {
    rep(o.decodeSteps, &p, &d);
    prefillRate.push_back(o.promptTokens / p);
    decodeRate.push_back(o.decodeSteps / d);
    std::cerr << "  rep " << r + 1 << "/" << o.reps << ": prefill " << fmt(o.promptTokens / p, 1)
              << " tok/s, decode " << fmt(o.decodeSteps / d, 1) << " tok/s\n";
  }

  const double prefillTps = median(prefillRate), decodeTps = median(decodeRate);
  const int64_t params = c.parameterCount();
  const double weightBytes = static_cast<double>(model->weightBytes());
  const double boundTps = o.bandwidthGBs * 1e9 / weightBytes;
  const double fraction = decodeTps / boundTps;
  const double speedup = prefillTps / decodeTps;
  const int64_t peakKb = procStatusKb("VmHWM");
  // KV cache bytes one decode step reads, mid-way through the measured steps (not in the bound).
  const double kvReadBytes = double(c.kvBytesPerToken()) * (decodePrompt + o.decodeSteps / 2);

  std::cout << "row | " << spec.name << " | " << paramsText(params) << " | " << fmt(prefillTps, 0)
            << " | " << fmt(decodeTps, 1) << " | " << fmt(1000.0 / decodeTps, 2) << " | "
            << fmt(speedup, 1) << "x | " << bytesText(weightBytes) << " | " << fmt(boundTps, 0)
            << " | " << fmt(100 * fraction, 1) << "% | " << fmt(mib(peakKb), 0) << " |\n";
  std::cout << "note " << spec.name << ": " << c.nLayers << " layers, dim " << c.dim << ", hidden "
            << c.hiddenDim << ", heads " << c.nHeads << "/" << c.nKvHeads << ", vocab "
            << c.vocabSize << ", context " << c.seqLen << "; decode " << o.decodeSteps
            << " steps after a " << decodePrompt << "-token prefill; load " << fmt(loadSeconds, 2)
            << " s; RSS after load " << fmt(mib(rssAfterLoadKb), 0) << " MiB, peak "
            << fmt(mib(peakKb), 0) << " MiB (load included); KV cache read per step ~"
            << bytesText(kvReadBytes) << " (not in the bound)"
            << (finite ? "" : "; WARNING: non-finite logits") << "\n";
  auto target = [&](bool pass, const std::string& text) {
    std::cout << "target " << (pass ? "PASS" : "MISS") << " " << text << "\n";
  };
  if (o.model == "random110m") {
    target(fraction >= 0.5,
           spec.name + " decode at >= 50% of the bandwidth bound: " + fmt(100 * fraction, 1) +
               "% (" + fmt(decodeTps, 1) + " of " + fmt(boundTps, 0) + " tok/s)");
  }
  target(speedup >= 10, spec.name + " batched prefill >= 10x faster per token than decode: " +
                            fmt(speedup, 1) + "x");
  if (o.model == "stories260K") {
    target(decodeTps >= 1000, spec.name + " decode >= 1000 tok/s: " + fmt(decodeTps, 0) + " tok/s");
  }
  return 0;
}

// ------------------------------------------------------------------------------------ session

// Decode through the session's decode path (what generate, the GUI and compare run) rather than
// LlamaModel::forward alone: the sampler, the per-step hooks and bookkeeping, and for a
// compressing method attention tracking and the compression. Prints one "session" line with the
// median decode rate, so that a change of the decode path can be timed old against new.
int runSession(const Options& o) {
  const ModelSpec spec = resolveModel(o);  // may fork: before any LibTorch work
  configureThreads(o);
  const std::unique_ptr<LlamaModel> model = kvs::loadModel(spec.path);
  const ModelConfig& c = model->config();
  kvs::require(o.decodeSteps < c.seqLen, "--decode-steps must be below the context");
  const int P = std::min(o.promptTokens, c.seqLen - o.decodeSteps);
  kvs::GenerationRequest request;
  request.promptIds = randomTokens(P, c.vocabSize, /*seed=*/2024);
  request.sampling.temperature = 0.0f;  // greedy, no stop ids: every step runs
  kvs::CompressionParams params;
  params.method = kvs::methodNamed(o.session).name();
  const auto rep = [&](int steps) {
    request.steps = P + steps;
    const auto r = kvs::runVariant(*model, request, params);
    return r.decodeForwardPasses / r.decodeSeconds;
  };
  rep(std::min(o.decodeSteps, 8));  // warm-up
  std::vector<double> rates;
  for (int r = 0; r < o.reps; ++r) {
    rates.push_back(rep(o.decodeSteps));
    std::cerr << "  rep " << r + 1 << "/" << o.reps << ": decode " << fmt(rates.back(), 1)
              << " tok/s\n";
  }
  std::cout << "session " << spec.name << " " << o.session << " decode_tok_s "
            << fmt(median(rates), 1) << " (" << o.decodeSteps << " steps after a " << P
            << "-token prefill, median of " << o.reps << ")\n";
  return 0;
}

// ------------------------------------------------------------------------------------ breakdown

// Times the decode-step matmuls of the 110M shape alone (weights of all layers, so nothing stays
// in cache), through at::linear on a [1, C] input (the model's path: addmm -> sgemm) and through
// at::mv (gemv), and the full decode step of the real model for comparison.
int runBreakdown(const Options& o) {
  const ModelConfig c = random110mConfig();
  const std::string path = o.cacheDir + "/random110m-legacy.bin";
  ensureRandomCheckpoint(path, c);
  configureThreads(o);
  std::cerr << "threads " << threadsText() << "\n";
  c10::InferenceMode guard;
  const int64_t C = c.dim, F = c.hiddenDim, L = c.nLayers, QKV = C + 2 * c.kvDim();
  struct Kind {
    std::string name;
    int64_t rows, cols;
    std::vector<at::Tensor> w;
  };
  std::vector<Kind> kinds = {
      {"wqkv", QKV, C, {}}, {"wo", C, C, {}}, {"w13", 2 * F, C, {}}, {"w2", C, F, {}}};
  for (auto& k : kinds) {
    for (int64_t l = 0; l < L; ++l) k.w.push_back(at::randn({k.rows, k.cols}) * 0.02);
  }
  Kind cls{"classifier", c.vocabSize, C, {at::randn({c.vocabSize, C}) * 0.02}};
  kinds.push_back(cls);

  const int iters = std::max(10, o.decodeSteps / 4);
  auto timePerToken = [&](const std::function<void()>& body) {
    std::vector<double> t;
    body();  // warm-up
    for (int r = 0; r < o.reps; ++r) {
      const auto a = Clock::now();
      for (int i = 0; i < iters; ++i) body();
      t.push_back(seconds(a, Clock::now()) / iters);
    }
    return median(t);
  };

  std::cout << "info decode matmuls of the 110M shape, per token (median of " << o.reps << " x "
            << iters << "):\n";
  std::cout << "| matrix | shape | x layers | MB read | linear [1,C] ms | GB/s | mv ms | GB/s |\n"
            << "|---|---|---|---|---|---|---|---|\n";
  double totalLinear = 0, totalMv = 0, totalBytes = 0;
  for (const auto& k : kinds) {
    const at::Tensor x2 = at::randn({1, k.cols});
    const at::Tensor x1 = x2.view({k.cols});
    const double tl = timePerToken([&] {
      for (const auto& w : k.w) (void)at::linear(x2, w);
    });
    const double tm = timePerToken([&] {
      for (const auto& w : k.w) (void)at::mv(w, x1);
    });
    const double bytes = 4.0 * k.rows * k.cols * k.w.size();
    totalLinear += tl;
    totalMv += tm;
    totalBytes += bytes;
    std::cout << "| " << k.name << " | " << k.rows << "x" << k.cols << " | " << k.w.size() << " | "
              << fmt(bytes / 1e6, 1) << " | " << fmt(tl * 1e3, 2) << " | "
              << fmt(bytes / tl / 1e9, 1) << " | " << fmt(tm * 1e3, 2) << " | "
              << fmt(bytes / tm / 1e9, 1) << " |\n";
  }
  std::cout << "| all matmuls | | | " << fmt(totalBytes / 1e6, 1) << " | "
            << fmt(totalLinear * 1e3, 2) << " | " << fmt(totalBytes / totalLinear / 1e9, 1) << " | "
            << fmt(totalMv * 1e3, 2) << " | " << fmt(totalBytes / totalMv / 1e9, 1) << " |\n";
  kinds.clear();

  // The real model's decode step at the same context as the table's run.
  const auto model = kvs::loadModel(path);
  KvCache cache = model->makeCache();
  const std::vector<int> prompt = randomTokens(o.promptTokens, c.vocabSize, 2024);
  (void)model->forward(prompt, cache);
  int token = 1;
  const double step = timePerToken([&] {
    if (cache.length() >= c.seqLen - 1) {
      cache.clear();
      (void)model->forward(prompt, cache);
    }
    token = greedyToken(model->forward({token}, cache));
  });
  std::cout << "info full decode step (model, context ~" << o.promptTokens
            << "): " << fmt(step * 1e3, 2) << " ms; matmuls via linear "
            << fmt(totalLinear * 1e3, 2) << " ms (" << fmt(100 * totalLinear / step, 0)
            << "%), rest (attention, norms, "
            << "RoPE, cache, dispatch) ~" << fmt((step - totalLinear) * 1e3, 2) << " ms\n";
  return 0;
}

// ------------------------------------------------------------------------------------ machine

int runMachine(const Options& o) {
  // Bandwidth first, before LibTorch starts its thread pool on these cores.
  const Bandwidth bw = measureBandwidth(o.bandwidthMiB, o.reps);
  configureThreads(o);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::cout << "info bandwidth_gbs " << fmt(bw.best(), 2) << "\n";
  std::cout << "info Memory bandwidth: " << fmt(bw.best(), 1) << " GB/s, the best of: memcpy of "
            << o.bandwidthMiB << " MiB (read + write bytes counted) on 1 thread "
            << fmt(bw.copy1, 1) << ", on " << cores << " threads " << fmt(bw.copyN, 1)
            << "; read-only sum on 1 thread " << fmt(bw.read1, 1) << ", on " << cores << " threads "
            << fmt(bw.readN, 1) << " (each the best of " << o.reps << ")\n";
  std::cout << "info Threads: " << threadsText() << "\n";
  std::cout << "info BLAS: " << kvs::describeBlas(kvs::detectBlas()) << "\n";
  std::cout << "info CPU: " << cpuModel() << "\n";
  for (const std::string& path : kvs::kernels::describeMatmulPaths()) {
    std::cout << "info Matmuls, " << path << "\n";
  }
  return 0;
}

int runHeader(const Options& o) {
  std::cout << "row | model | params | prefill tok/s (" << o.promptTokens
            << ") | decode tok/s | ms/token | "
               "prefill/decode per-token speed-up | weights bytes/token | bandwidth-bound tok/s | "
               "fraction of bound | peak RSS MiB |\n"
               "row |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parseOptions(argc, argv);
  try {
    if (o.mode == "machine") return runMachine(o);
    if (o.mode == "header") return runHeader(o);
    if (o.mode == "breakdown") return runBreakdown(o);
    if (!o.session.empty()) return runSession(o);
    return runModel(o);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
