#include "kernels/worker_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kvs::kernels {
namespace {

// How long a worker spins for the next job before it sleeps. A decode step of a small model
// calls the kernels every 10-100 us; longer would only burn the core another pool may want.
constexpr auto kSpin = std::chrono::microseconds(150);

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> caller(callerMutex_);
    if (threads == this->threads()) return;
    stop();
    start(threads);
  }

  void run(int tasks, PoolTask task, void* context) {
    std::lock_guard<std::mutex> caller(callerMutex_);
    if (tasks <= 0) return;
    if (workers_.empty() || tasks == 1) {
      for (int i = 0; i < tasks; ++i) task(i, context);
      return;
    }
    // More tasks than threads: the caller's share is every index the workers do not take.
    task_ = task;
    context_ = context;
    tasks_ = tasks;
    remaining_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    {
      // Taking the mutex orders this job after a worker's last look at generation_ before it
      // sleeps, so its wake-up cannot be lost.
      std::lock_guard<std::mutex> lock(sleepMutex_);
    }
    wake_.notify_all();
    for (int i = 0; i < tasks; i += threads()) task(i, context);
    while (remaining_.load(std::memory_order_acquire) != 0) _mm_pause();
  }

 private:
  void start(int threads) {
    stopping_ = false;
    // The generation is read here, not by the new thread: a job posted before the thread first
    // runs must still count as new to it.
    const uint64_t seen = generation_.load(std::memory_order_acquire);
    for (int index = 1; index < threads; ++index) {
      workers_.emplace_back([this, index, seen] { work(index, seen); });
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  void work(int index, uint64_t seen) {
    for (;;) {
      if (!spinFor(seen)) {
        std::unique_lock<std::mutex> lock(sleepMutex_);
        wake_.wait(
            lock, [&] { return stopping_ || generation_.load(std::memory_order_acquire) != seen; });
        if (stopping_) return;
      }
      seen = generation_.load(std::memory_order_acquire);
      const int stride = threads();
      for (int i = index; i < tasks_; i += stride) task_(i, context_);
      remaining_.fetch_sub(1, std::memory_order_release);
    }
  }

  // True when a new job arrived within the spin time.
  bool spinFor(uint64_t seen) const {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int round = 0;; ++round) {
      if (generation_.load(std::memory_order_acquire) != seen) return true;
      _mm_pause();
      if ((round & 255) == 255 && std::chrono::steady_clock::now() > until) return false;
    }
  }

  std::mutex callerMutex_;  // one job at a time
  std::mutex sleepMutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under sleepMutex_
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> remaining_{0};
  PoolTask task_ = nullptr;  // published by generation_'s release
  void* context_ = nullptr;
  int tasks_ = 0;
};

int defaultThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Pool& pool() {
  // Never destroyed: joining sleeping workers from a static destructor at exit would race the
  // other statics, and the process ending takes them with it.
  static Pool* instance = new Pool(defaultThreads());
  return *instance;
}

}  // namespace

void runOnPool(int tasks, PoolTask task, void* context) {
  pool().run(tasks, task, context);
}

int poolThreads() {
  return pool().threads();
}

void setPoolThreads(int threads) {
  pool().resize(std::max(1, threads));
}

}  // namespace kvs::kernels
