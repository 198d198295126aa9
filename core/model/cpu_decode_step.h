#pragma once
// One decode token on the CPU in plain loops over raw buffers: the same arithmetic as
// LlamaModel's layer of LibTorch ops (RMSNorm, RoPE and softmax in float32, projections through
// kernels/gemv.h), without them. A decode step of stories260K ran about a hundred LibTorch ops
// per layer at a microsecond or more each (allocation, dispatch, TensorIterator set-up), and that,
// not arithmetic, set its speed: 0.54 ms per token, where llama2.c's run.c takes 0.2 ms.
//
// It covers float32 compute (float32 weights, or float16 weights read as stored) and bfloat16
// compute (bfloat16 weights; the residual stream stays float32, what the layer of ops holds in
// bfloat16 is rounded to it, so a bfloat16 decode step is not bit-for-bit the batched bfloat16
// pass of the same tokens: both approximate float32, the step a little closer) over a cache in
// float32, float16 or bfloat16, with everything the families add (GQA, q/k/v biases, q/k norms,
// both RoPE pairings and llama3 scaling, a compressed cache's mask and slot bias, Mistral's window)
// and the observers (recording, the attention the compressing methods accumulate), so that every
// method and the full cache decode through the same arithmetic. Other devices and
// KVS_KERNELS=libtorch take LlamaModel's general path.

#include <ATen/core/Tensor.h>

#include "model/llama_weights.h"
#include "model/model_config.h"
#include "model/rope.h"

namespace kvs {

class KvCache;
class LayerObserver;

// Whether cpuDecodeStep takes a one-token forward of these weights with this cache.
bool cpuDecodeStepHandles(const ModelConfig& config, const LlamaWeights& weights,
                          at::ScalarType computeDtype, const KvCache& cache, at::Device device);

// The pending token (after cache.beginAppend(1)) at RoPE position ropePos: writes its key and
// value into the cache, shows each layer's tensors to observer (if any; beginForward is the
// caller's) and returns the float32 logits [V]. The caller commits or rolls back.
at::Tensor cpuDecodeStep(const ModelConfig& config, const LlamaWeights& weights,
                         const RotaryEmbedding& rope, int token, KvCache& cache, int ropePos,
                         LayerObserver* observer);

// Tests and benchmarks: false sends every forward through the general path (to compare them).
void setCpuDecodeStepEnabled(bool enabled);
bool cpuDecodeStepEnabled();
// One-token forwards cpuDecodeStep has run in this process (tests check which path ran).
int64_t cpuDecodeStepCount();

}  // namespace kvs
