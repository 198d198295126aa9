#include "util/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <thread>

#include "kernels/worker_pool.h"

namespace kvs {
namespace {

// OpenBLAS's C API, looked up at run time so any BLAS can be linked.
template <typename Fn>
Fn openblasFunction(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

std::string openblasThreading() {
  const auto parallel = openblasFunction<int (*)()>("openblas_get_parallel");
  if (!parallel) return "";
  switch (parallel()) {
    case 0:
      return "sequential";
    case 1:
      return "pthreads";
    default:
      return "OpenMP";
  }
}

}  // namespace

ThreadSettings setComputeThreads(int threads) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n = threads > 0 ? threads : cores;
  const std::string threading = openblasThreading();
  at::set_num_threads(threading == "pthreads" ? 1 : n);
  if (const auto set = openblasFunction<void (*)(int)>("openblas_set_num_threads")) set(n);
  kernels::setPoolThreads(n);
  return currentThreads();
}

ThreadSettings currentThreads() {
  ThreadSettings s;
  s.torchThreads = at::get_num_threads();
  s.blasThreading = openblasThreading();
  if (const auto get = openblasFunction<int (*)()>("openblas_get_num_threads")) {
    s.blasThreads = get();
  }
  return s;
}

std::string describe(const ThreadSettings& s) {
  std::string text = "LibTorch " + std::to_string(s.torchThreads);
  if (!s.blasThreading.empty()) {
    text += ", OpenBLAS " + std::to_string(s.blasThreads) + " (" + s.blasThreading + ")";
  }
  return text;
}

BlasOnCallerThread::BlasOnCallerThread(bool wanted) {
  if (!wanted) return;
  static const auto get = openblasFunction<int (*)()>("openblas_get_num_threads");
  static const auto set = openblasFunction<void (*)(int)>("openblas_set_num_threads");
  if (!get || !set) return;
  const int threads = get();
  if (threads <= 1) return;
  set(1);
  previous_ = threads;
}

BlasOnCallerThread::~BlasOnCallerThread() {
  if (previous_ == 0) return;
  static const auto set = openblasFunction<void (*)(int)>("openblas_set_num_threads");
  set(previous_);
}

void tuneAllocator() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

}  // namespace kvs
