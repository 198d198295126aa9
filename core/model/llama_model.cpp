#include "model/llama_model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

#include "cache/kv_cache.h"
#include "kernels/causal_attention.h"
#include "kernels/gemv.h"
#include "kernels/head_products.h"
#include "kernels/row_split_linear.h"
#include "kernels/softmax_rows.h"
#include "kernels/widen.h"
#include "kernels/worker_pool.h"
#include "model/cpu_decode_step.h"
#include "model/cpu_rows.h"
#include "model/layer_observer.h"
#include "model/query_block_attention.h"
#include "model/sliding_window.h"
#include "util/error.h"
#include "util/runtime.h"

namespace kvs {
namespace {

LlamaWeights toDevice(LlamaWeights w, at::Device device) {
  if (device.is_cpu()) return w;
  return mapWeights(std::move(w), [device](const at::Tensor& t) { return t.to(device); });
}

// x [n, C] times w^T, w [out, C]. One token on the CPU goes through kernels/gemv.h, which reads
// each weight in its own dtype (float16 included) at close to the memory's bandwidth. Several
// float32 tokens on an AVX-512 CPU (where their attention runs on the kernels' pool too:
// kernels/causal_attention.h) go through kernels/row_split_linear.h, single-threaded sgemms over
// that pool; the rest through linear (OpenBLAS's threads, oneDNN for bfloat16).
at::Tensor project(const at::Tensor& x, const at::Tensor& weight) {
  if (x.size(0) == 1 && kernels::matvecHandles(weight, x[0])) {
    return kernels::matvec(weight, x[0]).unsqueeze(0);  // [1, out]
  }
  // fp16 weights under float32 compute (CPU): widen this matrix only, for this call.
  const at::Tensor w = weight.scalar_type() == x.scalar_type() ? weight
                       : x.scalar_type() == at::kFloat         ? kernels::widenToFloat(weight)
                                                               : weight.to(x.scalar_type());
  const bool float32 = x.scalar_type() == at::kFloat;
  if (float32 && x.device().is_cpu() && kernels::causalAttentionAvailable()) {
    return kernels::rowSplitLinear(x, w);
  }
  // Without the kernels (other devices, KVS_KERNELS=libtorch): one float32 token through gemv,
  // since OpenBLAS's sgemm with m = 1 repacks the whole matrix on every call; bfloat16 through
  // linear (oneDNN), which was 4x quicker than mv on an 11008 x 4096 matrix.
  return x.size(0) == 1 && float32 ? at::mv(w, x.view({x.size(1)})).unsqueeze(0) : at::linear(x, w);
}

// A batched pass's norms, RoPE and gates go through model/cpu_rows.h where its attention and
// projections run on the kernels' pool too (AVX-512: OpenBLAS is on the caller then); elsewhere
// OpenBLAS keeps its threads, and waking the pool beside them would oversubscribe the cores.
bool rowsOnPool(const at::Tensor& x) {
  return cpuRowsHandle(x) && kernels::causalAttentionAvailable();
}

// LibTorch's OpenMP pool runs on one thread beside OpenBLAS's (util/runtime.h). A batched
// bfloat16 pass never calls OpenBLAS (oneDNN does its matmuls, on that OpenMP pool), so for its
// duration the OpenMP pool gets the compute threads: 512 tokens of a 1.1B model prefilled in
// 1.8 s instead of 2.8 s on 2 cores.
class ComputeThreadsForBf16 {
 public:
  explicit ComputeThreadsForBf16(bool wanted)
      : previous_(at::get_num_threads()), changed_(wanted && kernels::poolThreads() > previous_) {
    if (changed_) at::set_num_threads(kernels::poolThreads());
  }
  ~ComputeThreadsForBf16() {
    if (changed_) at::set_num_threads(previous_);
  }

 private:
  int previous_;
  bool changed_;
};

// Per KV-head cache size (tokens x head dim) from which decode attention uses per-head gemv.
constexpr int64_t kGemvMinElements = 16384;

}  // namespace

LlamaModel::LlamaModel(ModelConfig config, LlamaWeights weights, at::Device device,
                       std::optional<at::ScalarType> kvDtype)
    : config_((config.validate(), std::move(config))),
      weights_(toDevice(std::move(weights), device)),
      device_(device),
      weightDtype_(weights_.embedding.scalar_type()),
      computeDtype_(weightDtype_ == at::kHalf && device.is_cpu() ? at::kFloat : weightDtype_),
      kvDtype_(kvDtype.value_or(weightDtype_)),
      rope_(config_.headDim(), config_.seqLen, config_.ropeTheta, config_.ropeStyle, device,
            config_.ropeScaling) {
  for (at::ScalarType t : {weightDtype_, kvDtype_}) {
    require(t == at::kFloat || t == at::kBFloat16 || t == at::kHalf,
            std::string("unsupported model dtype ") + c10::toString(t) +
                " (float32, bfloat16 and float16 are supported)");
  }
  require(static_cast<int>(weights_.layers.size()) == config_.nLayers,
          "model weights have " + std::to_string(weights_.layers.size()) + " layers, config says " +
              std::to_string(config_.nLayers));
  for (const LayerWeights& l : weights_.layers) {
    require(l.bqkv.defined() == config_.qkvBias && l.qNorm.defined() == config_.qkNorm &&
                l.kNorm.defined() == config_.qkNorm,
            std::string("model weights do not match the config's q/k/v biases or q/k norms (") +
                toString(config_.family) + ")");
  }
}

KvCache LlamaModel::makeCache() const {
  return KvCache(config_, at::TensorOptions().dtype(kvDtype_).device(device_));
}

int64_t LlamaModel::weightBytes() const {
  const auto& w = weights_;
  int64_t total = w.embedding.nbytes() + w.finalNorm.nbytes();
  if (!w.classifier.is_same(w.embedding)) total += w.classifier.nbytes();
  for (const auto& l : w.layers) {
    total += l.attnNorm.nbytes() + l.wqkv.nbytes() + l.wo.nbytes() + l.ffnNorm.nbytes() +
             l.w13.nbytes() + l.w2.nbytes();
    for (const at::Tensor* t : {&l.bqkv, &l.qNorm, &l.kNorm})
      total += t->defined() ? t->nbytes() : 0;
  }
  return total;
}

at::Tensor LlamaModel::rmsNorm(const at::Tensor& x, const at::Tensor& weight) const {
  // x: [n, C] -> [n, C], or a head's q/k [n, H, D] -> [n, H, D] (weight [D]);
  // x / sqrt(mean(x^2) + eps) * weight over the last axis, normalised in float32
  if (computeDtype_ == at::kFloat && rowsOnPool(x)) {
    return rmsNormRows(x, weight, config_.normEps);  // model/cpu_rows.h: plain loops
  }
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor normed =
      (xf * at::rsqrt(xf.square().mean(-1, /*keepdim=*/true).add_(config_.normEps)))
          .to(computeDtype_);
  return normed * (weight.scalar_type() == computeDtype_ ? weight : weight.to(computeDtype_));
}

at::Tensor LlamaModel::attention(int layer, const at::Tensor& x, KvCache& cache, int ropePos,
                                 LayerObserver* observer) const {
  const LayerWeights& w = weights_.layers[layer];
  const int64_t n = x.size(0), Hq = config_.nHeads, Hkv = config_.nKvHeads;
  const int64_t D = config_.headDim(), G = config_.groupSize();

  at::Tensor qkv = project(rmsNorm(x, w.attnNorm), w.wqkv);        // [n, (Hq+2Hkv)*D]
  if (w.bqkv.defined()) qkv = qkv + w.bqkv.to(qkv.scalar_type());  // Qwen2's q, k, v biases
  at::Tensor qRaw = qkv.narrow(1, 0, Hq * D).view({n, Hq, D});
  at::Tensor kRaw = qkv.narrow(1, Hq * D, Hkv * D).view({n, Hkv, D});
  const at::Tensor v = qkv.narrow(1, (Hq + Hkv) * D, Hkv * D).view({n, Hkv, D});
  if (config_.qkNorm) {  // Qwen3: each head's q and k normalised over D before RoPE
    qRaw = rmsNorm(qRaw, w.qNorm);
    kRaw = rmsNorm(kRaw, w.kNorm);
  }
  // RoPE in float32 (its table is complex64); on the CPU in plain loops (model/cpu_rows.h).
  const auto rotated = [&](const at::Tensor& raw) {
    if (computeDtype_ == at::kFloat && rowsOnPool(raw)) return ropeRows(raw, rope_, ropePos);
    return rope_.apply(raw.to(at::kFloat), ropePos).to(computeDtype_);
  };
  const at::Tensor q = rotated(qRaw);  // [n, Hq, D]
  const at::Tensor k = rotated(kRaw);  // [n, Hkv, D]
  cache.write(layer, k, v);
  cache.writeQueries(layer, q);
  if (observer) {
    observer->onTensor(layer, "k_prerope", kRaw.transpose(0, 1));
    observer->onTensor(layer, "k", k.transpose(0, 1));
    observer->onTensor(layer, "v", v.transpose(0, 1));
    observer->onTensor(layer, "q", q.transpose(0, 1));
  }

  // A cache in another dtype than the compute is widened (or narrowed) one layer at a time.
  const at::Tensor keys = cache.keys(layer).to(computeDtype_);      // [Hkv, Tk, D]
  const at::Tensor values = cache.values(layer).to(computeDtype_);  // [Hkv, Tk, D]
  const int64_t Tk = keys.size(1);
  // One new token over a long cache: per-head gemv. Batched bmm would call sgemm with m = 1 per
  // head, which packs (copies) the whole key and value cache each step (measured 12% faster decode
  // of a 110M model at 512 tokens).
  const bool perHeadGemv = n == 1 && Tk * D >= kGemvMinElements;
  const double scale = 1.0 / std::sqrt(double(D));
  // Padding and bias mask of this layer (see KvCache::attentionMask), added to the scores; none
  // where it would only say what queryBlockAttention applies itself: causality.
  at::Tensor mask = cache.masksOnlyCausally(layer)
                        ? at::Tensor()
                        : cache.attentionMask(layer, static_cast<int>(G));
  if (mask.defined()) mask = mask.to(computeDtype_);
  const at::Tensor window =
      slidingWindowMask(cache, layer, config_.slidingWindow, static_cast<int>(G), computeDtype_);
  if (window.defined()) mask = mask.defined() ? mask + window : window;
  if (!perHeadGemv) {  // batched matmuls over blocks of query rows (model/query_block_attention.h)
    return project(queryBlockAttention(q, keys, values, mask, scale, layer, observer), w.wo);
  }
  const at::Tensor qg = q.view({Hkv, G, D});  // query head h uses KV head h / G
  at::Tensor scores = kernels::perHeadProducts(qg, keys, false).mul_(scale);  // [Hkv, G, Tk]
  if (mask.defined()) scores.add_(mask);
  const at::Tensor probsF = kernels::softmaxRows(scores);  // [Hkv, G, Tk] float32
  if (observer && observer->wantsAttention()) {
    observer->onTensor(layer, "attn", probsF.view({Hq, 1, Tk}));
  }
  const at::Tensor out = kernels::perHeadProducts(probsF.to(computeDtype_), values, true);
  if (observer) observer->onTensor(layer, "attn_out", out.view({Hq, 1, D}));  // [Hkv, G, D]
  return project(out.view({1, Hq * D}), w.wo);                                // [n, C]
}

at::Tensor LlamaModel::feedForward(int layer, const at::Tensor& x) const {
  const LayerWeights& w = weights_.layers[layer];
  const int64_t F = config_.hiddenDim;
  const at::Tensor h = project(rmsNorm(x, w.ffnNorm), w.w13);  // [n, 2F]
  const at::Tensor gated = rowsOnPool(h) && h.is_contiguous()
                               ? siluGateRows(h)  // [n, F] (model/cpu_rows.h)
                               : at::silu(h.narrow(1, 0, F)).mul_(h.narrow(1, F, F));
  return project(gated, w.w2);  // [n, C]
}

at::Tensor LlamaModel::forward(const std::vector<int>& tokens, KvCache& cache, LogitsMode mode,
                               LayerObserver* observer) const {
  c10::InferenceMode guard;
  const int n = static_cast<int>(tokens.size());
  for (int t : tokens) {
    require(t >= 0 && t < config_.vocabSize, "token id " + std::to_string(t) +
                                                 " is outside the vocabulary (size " +
                                                 std::to_string(config_.vocabSize) + ")");
  }
  const ComputeThreadsForBf16 threads(device_.is_cpu() && computeDtype_ == at::kBFloat16 && n > 1);
  // OpenBLAS on the caller alone while the kernels' pool does the work: a one-token pass, and a
  // float32 one on an AVX-512 CPU (fused attention, sgemms split by rows: project above).
  const BlasOnCallerThread blas(
      device_.is_cpu() && kernels::matvecEnabled() &&
      (n == 1 || (computeDtype_ == at::kFloat && kernels::causalAttentionAvailable())));
  const int firstPos = cache.beginAppend(n);
  try {
    if (observer) observer->beginForward(firstPos, n);
    // RoPE at the cache's positions: the tokens' own unless a policy re-assigned them.
    const int ropePos = firstPos - cache.ropeShift();
    if (n == 1 && cpuDecodeStepHandles(config_, weights_, computeDtype_, cache, device_)) {
      // One token in plain loops (model/cpu_decode_step.h): the same arithmetic as below.
      at::Tensor logits =
          cpuDecodeStep(config_, weights_, rope_, tokens[0], cache, ropePos, observer);
      cache.commit();
      return mode == LogitsMode::kLast ? logits : logits.view({1, config_.vocabSize});  // [V]
    }
    std::vector<int64_t> ids(tokens.begin(), tokens.end());
    const at::Tensor idx = at::tensor(ids, at::kLong).to(device_);
    at::Tensor x = weights_.embedding.index_select(0, idx).to(computeDtype_);  // [n, C]
    for (int l = 0; l < config_.nLayers; ++l) {
      x = x + attention(l, x, cache, ropePos, observer);
      x = x + feedForward(l, x);
    }
    if (mode == LogitsMode::kLast) x = x.narrow(0, n - 1, 1);
    at::Tensor logits =
        project(rmsNorm(x, weights_.finalNorm), weights_.classifier).to(at::kFloat);  // [n|1, V]
    cache.commit();
    return mode == LogitsMode::kLast ? logits.view({config_.vocabSize}) : logits;
  } catch (...) {
    cache.rollback();
    throw;
  }
}

}  // namespace kvs
