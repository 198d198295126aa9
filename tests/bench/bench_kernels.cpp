// kvs_bench_kernels: the one-token projections of decode (kernels/gemv.h) against what LibTorch
// 1.13 does for them, in GB/s of weights read, on the matrices of the 110M and 1.1B shapes.
//
//   kvs_bench_kernels [--reps N] [--threads N] [--bandwidth-gbs X]
//
// Each (matrix, dtype) is timed in alternating rounds of every path, medians of --reps rounds;
// each timing cycles over enough copies of the matrix (>= 512 MB) that it is read from memory,
// not from the caches. LibTorch's paths are what LlamaModel::project called before the kernels:
// at::mv for float32 (OpenBLAS sgemv), at::linear for bfloat16 (oneDNN), and for float16 a widen
// to float32 then at::mv. With --bandwidth-gbs (run_benchmarks.sh passes the machine's), a column
// gives each path's fraction of it.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "kernels/gemv.h"
#include "kernels/worker_pool.h"
#include "util/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace kk = kvs::kernels;

struct Shape {
  const char* name;
  int64_t out, in;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Path {
  std::string name;
  std::function<void(const at::Tensor& w, const at::Tensor& x)> run;
};

std::vector<Path> pathsFor(at::ScalarType dtype) {
  std::vector<Path> paths;
  if (dtype == at::kFloat) {
    paths.push_back({"LibTorch at::mv (OpenBLAS sgemv)", [](auto& w, auto& x) { at::mv(w, x); }});
  } else if (dtype == at::kBFloat16) {
    paths.push_back(
        {"LibTorch at::linear (oneDNN)", [](auto& w, auto& x) { at::linear(x.unsqueeze(0), w); }});
  } else {
    paths.push_back({"LibTorch widen + at::mv",
                     [](auto& w, auto& x) { at::mv(w.to(at::kFloat), x.to(at::kFloat)); }});
  }
  std::vector<kk::Isa> isas{kk::Isa::kPlain};
  if (kk::bestIsa() != kk::Isa::kPlain) isas.push_back(kk::Isa::kAvx2);
  if (kk::bestIsa() >= kk::Isa::kAvx512) isas.push_back(kk::Isa::kAvx512);
  if (kk::bestIsa() >= kk::Isa::kAvx512Bf16) isas.push_back(kk::Isa::kAvx512Bf16);
  for (kk::Isa isa : isas) {
    paths.push_back({"matvec " + kk::isaName(isa), [isa](auto& w, auto& x) {
                       kk::useIsa(isa);
                       kk::matvec(w, x);
                     }});
  }
  return paths;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, threads = 0;
  double bandwidth = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: kvs_bench_kernels [--reps N] [--threads N] [--bandwidth-gbs X]\n");
      return 2;
    }
    if (a == "--reps")
      reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads")
      threads = std::atoi(argv[++i]);
    else if (a == "--bandwidth-gbs")
      bandwidth = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "kvs_bench_kernels: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  kvs::tuneAllocator();
  kvs::setComputeThreads(threads);
  c10::InferenceMode guard;
  const kk::Isa best = kk::activeIsa();
  std::printf("one-token projections, %d thread(s) (%s), %d alternating rounds, medians\n\n",
              kk::poolThreads(), kvs::describe(kvs::currentThreads()).c_str(), reps);
  std::printf("| matrix | dtype | path | GB/s | ms |%s\n|---|---|---|---:|---:|%s\n",
              bandwidth > 0 ? " fraction of bandwidth |" : "", bandwidth > 0 ? "---:|" : "");
  const Shape shapes[] = {{"110M q/k/v (2304 x 768)", 2304, 768},
                          {"110M classifier (32000 x 768)", 32000, 768},
                          {"1.1B gate/up (11264 x 2048)", 11264, 2048},
                          {"1.1B classifier (32000 x 2048)", 32000, 2048}};
  for (const Shape& s : shapes) {
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      const int64_t bytes = s.out * s.in * c10::elementSize(dtype);
      const int copies = static_cast<int>(std::max<int64_t>(1, (int64_t{512} << 20) / bytes));
      std::vector<at::Tensor> ws;
      for (int c = 0; c < copies; ++c) ws.push_back(at::randn({s.out, s.in}).to(dtype));
      const at::Tensor x = at::randn({s.in}).to(dtype == at::kBFloat16 ? dtype : at::kFloat);
      const std::vector<Path> paths = pathsFor(dtype);
      std::vector<std::vector<double>> seconds(paths.size());
      for (int r = 0; r < reps; ++r) {
        for (size_t p = 0; p < paths.size(); ++p) {
          const auto t = Clock::now();
          for (const at::Tensor& w : ws) paths[p].run(w, x);
          seconds[p].push_back(std::chrono::duration<double>(Clock::now() - t).count() / copies);
        }
      }
      kk::useIsa(best);
      for (size_t p = 0; p < paths.size(); ++p) {
        const double sec = median(seconds[p]), gbs = bytes / sec / 1e9;
        std::printf("| %s | %s | %s | %.1f | %.3f |", s.name, c10::toString(dtype),
                    paths[p].name.c_str(), gbs, sec * 1e3);
        if (bandwidth > 0) std::printf(" %.0f%% |", 100 * gbs / bandwidth);
        std::printf("\n");
      }
    }
  }
  // What prefill's batched projections can reach: LibTorch's linear on 512 tokens of a 1.1B
  // gate/up-sized matrix, on LibTorch's pool at one thread and at the compute threads (the model
  // gives a bfloat16 pass the compute threads; float32 goes to OpenBLAS's own pool either way).
  std::printf(
      "\nbatched matmul throughput, at::linear [512, 2048] x [5632, 2048]^T, best of %d\n\n", reps);
  std::printf("| dtype | LibTorch threads | GFLOP/s |\n|---|---:|---:|\n");
  const int computeThreads = kk::poolThreads();
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    const at::Tensor a = at::randn({512, 2048}).to(dtype), w = at::randn({5632, 2048}).to(dtype);
    for (int t : {1, computeThreads}) {
      at::set_num_threads(t);
      (void)at::linear(a, w);  // warm-up: oneDNN builds its primitive
      double best = 1e30;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        (void)at::linear(a, w);
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
      }
      std::printf("| %s | %d | %.0f |\n", c10::toString(dtype), t,
                  2.0 * 512 * 2048 * 5632 / best / 1e9);
      if (t == computeThreads) break;
    }
  }
  kvs::setComputeThreads(threads);
  return 0;
}
