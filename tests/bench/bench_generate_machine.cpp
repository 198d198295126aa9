// kvs_bench_generate's view of the machine: the threads it computes on, the memory bandwidth that
// bounds decode (--machine, whose bandwidth_gbs the --model rows divide by), and where decode time
// goes in the matmuls of the 110M shape (--breakdown).

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>

#include "bench_generate_common.h"
#include "cache/kv_cache.h"
#include "kernels/gemv.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "util/blas_info.h"
#include "util/error.h"
#include "util/runtime.h"

namespace bench_generate {

using kvs::KvCache;

namespace {

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

}  // namespace

// ------------------------------------------------------------------------------------ threads

void configureThreads(const Options& o) {
  kvs::tuneAllocator();
  kvs::setComputeThreads(o.threads);
  if (o.blasThreads > 0) setOpenblasThreads(o.blasThreads);
}

std::string threadsText() {
  return kvs::describe(kvs::currentThreads()) + " (" +
         std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " cores)";
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

}  // namespace bench_generate
