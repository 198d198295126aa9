#pragma once
// The threads the hand-written kernels (kernels/gemv.h) split their rows over. LibTorch's own
// OpenMP pool runs on one thread next to OpenBLAS's pthreads pool (util/runtime.h), so without
// this a one-token matvec would run on one core. Workers spin briefly after a job, because a
// decode step calls the kernels every few tens of microseconds and a futex wake-up on these VMs
// costs about as much, then sleep: between steps and during a bfloat16 prefill's matmuls (when
// oneDNN's OpenMP pool has the cores) they hold no core. A prompt's attention runs on this pool
// (kernels/causal_attention.h), and a float32 prefill's projections too
// (kernels/row_split_linear.h), with OpenBLAS on the caller.

#include <cstdint>

namespace kvs::kernels {

// Runs task(i, context) for i in [0, tasks), task 0 on the calling thread and the others on the
// pool's workers; returns when all are done. One caller at a time (the others wait their turn).
// A task must not throw (catch inside it and hand the error back through the context).
using PoolTask = void (*)(int index, void* context);
void runOnPool(int tasks, PoolTask task, void* context);

// The threads runOnPool uses, the caller included (1 = everything on the caller). Set by
// setComputeThreads; starts as one per core.
int poolThreads();
void setPoolThreads(int threads);

}  // namespace kvs::kernels
