#include "kernels/causal_attention.h"

#include <algorithm>
#include <atomic>

#include "kernels/gemv.h"
#include "kernels/worker_pool.h"

namespace kvs::kernels {
namespace {

// Tiles a worker takes at a time: few enough that the cheap last ones even out the threads.
constexpr int64_t kTilesPerGrab = 4;

struct Job {
  const CausalAttentionArgs* args;
  int64_t tiles;
  std::atomic<int64_t> next{0};
};

void attentionTask(int /*index*/, void* context) {
  Job& job = *static_cast<Job*>(context);
  for (;;) {
    const int64_t first = job.next.fetch_add(kTilesPerGrab);
    if (first >= job.tiles) return;
    causalAttentionTilesAvx512(*job.args, first, std::min(job.tiles, first + kTilesPerGrab));
  }
}

}  // namespace

bool causalAttentionAvailable() {
  return matvecEnabled() && activeIsa() >= Isa::kAvx512;
}

int64_t causalAttentionTiles(const CausalAttentionArgs& a) {
  const int64_t rowsPerHead = (a.Hq / a.Hkv) * a.n;
  return a.Hkv * ((rowsPerHead + kCausalAttentionTileRows - 1) / kCausalAttentionTileRows);
}

void causalAttention(const CausalAttentionArgs& args) {
  Job job;
  job.args = &args;
  job.tiles = causalAttentionTiles(args);
  const int64_t threads = std::min<int64_t>(poolThreads(), job.tiles);
  runOnPool(static_cast<int>(std::max<int64_t>(threads, 1)), attentionTask, &job);
}

}  // namespace kvs::kernels
