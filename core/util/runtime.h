#pragma once
// Process-wide compute settings: thread pools and the allocator. Call once at start-up, before
// any model runs (the mains do).

#include <string>

namespace kvs {

struct ThreadSettings {
  int torchThreads = 1;       // LibTorch's intra-op (OpenMP) pool
  int blasThreads = 0;        // OpenBLAS's pool, 0 when OpenBLAS is not loaded
  std::string blasThreading;  // "pthreads", "OpenMP", "sequential" or "" (not OpenBLAS)
};

// threads: cores to compute on (0 = all). With the pthreads build of OpenBLAS (Debian's
// libopenblas0-pthread), LibTorch's OpenMP pool and OpenBLAS's own pool spin against each other
// on the same cores (measured: 70% of decode time in libgomp's spin-wait, 3x slower decode), so
// OpenBLAS gets the cores and LibTorch's elementwise ops run on one thread.
ThreadSettings setComputeThreads(int threads);
ThreadSettings currentThreads();
std::string describe(const ThreadSettings& settings);

// While one of these lives (wanted = true), OpenBLAS runs on the calling thread only: a one-token
// forward, whose matvecs and attention spread over kernels/worker_pool.h instead, and a float32
// prefill on an AVX-512 CPU, whose sgemms the pool splits by rows (kernels/row_split_linear.h).
// OpenBLAS's pool woken by the attention's small gemvs spun beside the kernels' pool on the same
// two cores (the 110M model decoded at 26 tokens/s instead of 39). Process-wide: two forwards at
// once on two threads may leave OpenBLAS on one thread until the next batched pass, a speed
// matter only.
class BlasOnCallerThread {
 public:
  explicit BlasOnCallerThread(bool wanted);
  ~BlasOnCallerThread();
  BlasOnCallerThread(const BlasOnCallerThread&) = delete;
  BlasOnCallerThread& operator=(const BlasOnCallerThread&) = delete;

 private:
  int previous_ = 0;  // OpenBLAS's threads before, 0 when unchanged
};

// glibc hands large freed blocks straight back to the OS, so every layer's attention buffers are
// page-faulted in anew (measured: about a third of prefill time on these VMs, 10x slower prefill
// of stories260K). Keep blocks below 32 MiB in the heap and trim it only past 512 MiB.
void tuneAllocator();

}  // namespace kvs
