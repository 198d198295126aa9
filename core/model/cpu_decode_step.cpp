#include "model/cpu_decode_step.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "cache/kv_cache.h"
#include "kernels/gemv.h"
#include "kernels/softmax_row.h"
#include "kernels/worker_pool.h"
#include "model/cpu_rows.h"
#include "model/layer_observer.h"
#include "model/sliding_window.h"

namespace kvs {
namespace {

std::atomic<bool>& enabledFlag() {
  static std::atomic<bool> enabled{true};
  return enabled;
}

std::atomic<int64_t> stepsTaken{0};

bool isFloating(const at::Tensor& t) {
  const at::ScalarType s = t.scalar_type();
  return s == at::kFloat || s == at::kHalf || s == at::kBFloat16;
}

// A matrix matvec reads as stored: [out, in] on the CPU, unit column stride.
bool rawMatrix(const at::Tensor& w) {
  return w.defined() && w.device().is_cpu() && w.dim() == 2 && w.stride(1) == 1 && isFloating(w);
}

// A small vector (a norm's weight, a bias) widened to float32 into out[0, n).
void widenVector(const at::Tensor& t, float* out) {
  const at::Tensor c = t.contiguous();
  const int64_t n = c.numel();
  if (c.scalar_type() == at::kFloat) {
    std::copy_n(c.data_ptr<float>(), n, out);
  } else if (c.scalar_type() == at::kHalf) {
    const at::Half* h = c.data_ptr<at::Half>();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(h[i]);
  } else {
    const at::BFloat16* b = c.data_ptr<at::BFloat16>();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(b[i]);
  }
}

// base[at, at + n) of a cache in float32, float16 or bfloat16 <- x[n], rounded to nearest even
// as LibTorch's copy_ rounds.
void store(const float* x, int64_t n, at::ScalarType type, void* base, int64_t at) {
  if (type == at::kFloat) {
    std::copy_n(x, n, static_cast<float*>(base) + at);
  } else if (type == at::kHalf) {
    at::Half* out = static_cast<at::Half*>(base) + at;
    for (int64_t i = 0; i < n; ++i) out[i] = at::Half(x[i]);
  } else {
    at::BFloat16* out = static_cast<at::BFloat16*>(base) + at;
    for (int64_t i = 0; i < n; ++i) out[i] = at::BFloat16(x[i]);
  }
}

void roundToBfloat16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(at::BFloat16(x[i]));
}

// y[out] = W x through kernels/gemv.h. A bfloat16 W (bfloat16 compute) gets x rounded to
// bfloat16, as LibTorch's layer holds its activations, so that the pairs go through vdpbf16ps.
void project(const at::Tensor& w, const float* x, float* y) {
  if (w.scalar_type() == at::kBFloat16) {
    thread_local std::vector<at::BFloat16> rounded;  // [in]
    rounded.resize(static_cast<size_t>(w.size(1)));
    for (int64_t i = 0; i < w.size(1); ++i) rounded[i] = at::BFloat16(x[i]);
    kernels::matvecRawBf16(static_cast<const uint16_t*>(w.data_ptr()), w.size(0), w.size(1),
                           w.stride(0), reinterpret_cast<const uint16_t*>(rounded.data()), y);
    return;
  }
  kernels::matvecRaw(w.data_ptr(), kernels::weightTypeOf(w.scalar_type()), w.size(0), w.size(1),
                     w.stride(0), x, y);
}

// Attention of the Hq query heads over one layer's cache: for query head (kv head h, member g)
// out = softmax(scale * K_h q + mask) V_h, K_h and V_h the head's Tk rows of D floats.
struct Attention {
  const float* q;      // [Hkv, G, D]
  const char* keys;    // head h at keys + h * headBytes, rows D elements apart, of type
  const char* values;  // the same layout
  kernels::WeightType type;
  int64_t headBytes;
  const float* mask;  // [1 or Hkv, G, Tk] additive, or null
  int64_t maskHeads;
  int64_t G, pairs, Tk, D;
  float scale;
  float* scores;  // [pairs, Tk] scratch
  float* out;     // [Hkv, G, D]
  int tasks;

  void pair(int64_t p) const {
    const int64_t h = p / G, g = p % G;
    float* s = scores + p * Tk;
    kernels::matvecSerial(keys + h * headBytes, type, Tk, D, D, q + p * D, s);  // [Tk]
    const float* m = mask ? mask + ((maskHeads == 1 ? 0 : h) * G + g) * Tk : nullptr;
    for (int64_t t = 0; t < Tk; ++t) s[t] = s[t] * scale + (m ? m[t] : 0.0f);
    kernels::softmaxRowInPlace(s, Tk);
    kernels::weightedRowsSerial(values + h * headBytes, type, Tk, D, D, s, out + p * D);  // [D]
  }
};

void attentionTask(int index, void* context) {
  const Attention& a = *static_cast<const Attention*>(context);
  for (int64_t p = index; p < a.pairs; p += a.tasks) a.pair(p);
}

// Below this many cached elements per KV head the heads run on the calling thread (as
// LlamaModel's per-head gemv threshold): waking a worker costs more than the work.
constexpr int64_t kThreadedMinElements = 16384;

// The layer's additive mask over keys(layer) for the pending token: the cache's (padding of
// shorter heads, slot bias) plus Mistral's window; undefined when nothing is hidden or biased.
at::Tensor layerMask(const KvCache& cache, const ModelConfig& config, int layer) {
  const int G = config.groupSize();
  at::Tensor mask = cache.attentionMask(layer, G);
  const at::Tensor window = slidingWindowMask(cache, layer, config.slidingWindow, G, at::kFloat);
  if (window.defined()) mask = mask.defined() ? mask + window : window;
  return mask.defined() ? mask.to(at::kFloat).contiguous() : mask;  // [1 or Hkv, G, Tk]
}

}  // namespace

void setCpuDecodeStepEnabled(bool enabled) {
  enabledFlag().store(enabled);
}

bool cpuDecodeStepEnabled() {
  return enabledFlag().load();
}

int64_t cpuDecodeStepCount() {
  return stepsTaken.load();
}

bool cpuDecodeStepHandles(const ModelConfig& config, const LlamaWeights& weights,
                          at::ScalarType computeDtype, const KvCache& cache, at::Device device) {
  const int64_t C = config.dim, F = config.hiddenDim, D = config.headDim();
  const int64_t qkvRows = (config.nHeads + 2 * config.nKvHeads) * D;
  // The loops index raw buffers by the config's sizes: a cache or weights of another shape (a
  // cache made by another model, weights built by hand) go to the general path, whose tensor
  // ops check shapes and throw, rather than being read past their ends.
  if (!cpuDecodeStepEnabled() || !kernels::matvecEnabled() || !device.is_cpu() ||
      (computeDtype != at::kFloat && computeDtype != at::kBFloat16) ||
      (cache.scalarType() != at::kFloat && cache.scalarType() != at::kHalf &&
       cache.scalarType() != at::kBFloat16) ||
      !cache.device().is_cpu() || cache.nLayers() != config.nLayers ||
      cache.nKvHeads() != config.nKvHeads || cache.headDim() != D ||
      !isFloating(weights.embedding) || weights.embedding.size(1) != C ||
      !rawMatrix(weights.classifier) || weights.classifier.size(1) != C ||
      weights.finalNorm.numel() != C || static_cast<int>(weights.layers.size()) != config.nLayers) {
    return false;
  }
  const auto shaped = [](const at::Tensor& w, int64_t out, int64_t in) {
    return rawMatrix(w) && w.size(0) == out && w.size(1) == in;
  };
  for (const LayerWeights& l : weights.layers) {
    if (!shaped(l.wqkv, qkvRows, C) || !shaped(l.wo, C, config.nHeads * D) ||
        !shaped(l.w13, 2 * F, C) || !shaped(l.w2, C, F) || l.attnNorm.numel() != C ||
        l.ffnNorm.numel() != C || (l.bqkv.defined() && l.bqkv.numel() != qkvRows) ||
        (config.qkNorm && (l.qNorm.numel() != D || l.kNorm.numel() != D))) {
      return false;
    }
  }
  return true;
}

at::Tensor cpuDecodeStep(const ModelConfig& config, const LlamaWeights& weights,
                         const RotaryEmbedding& rope, int token, KvCache& cache, int ropePos,
                         LayerObserver* observer) {
  const int64_t C = config.dim, F = config.hiddenDim, Hq = config.nHeads, Hkv = config.nKvHeads,
                D = config.headDim(), G = config.groupSize();
  const int64_t qkvRows = (Hq + 2 * Hkv) * D;
  stepsTaken.fetch_add(1, std::memory_order_relaxed);
  // One buffer for the step: x [C], normed [C], norm weight [max(C, D)], qkv [qkvRows],
  // bias [qkvRows], attention out [Hq*D], ffn [2F], plus the scores below.
  std::vector<float> buffer(3 * C + D + 2 * qkvRows + Hq * D + 2 * F);
  float* x = buffer.data();
  float* normed = x + C;
  float* normWeight = normed + C;  // C + D floats: a layer's norm, or a head's q/k norm
  float* qkv = normWeight + C + D;
  float* bias = qkv + qkvRows;
  float* attended = bias + qkvRows;
  float* ffn = attended + Hq * D;
  std::vector<float> scores;
  std::vector<float> keyBeforeRope(observer ? Hkv * D : 0);  // [Hkv, D]
  const auto asFloat = at::TensorOptions().dtype(at::kFloat);
  // [1, H, D] of a buffer as the observer's [H, 1, D] (a view: observers copy what they keep)
  const auto heads = [&](float* data, int64_t H) {
    return at::from_blob(data, {1, H, D}, asFloat).transpose(0, 1);
  };

  // bfloat16 compute keeps the residual stream in float32 but rounds what LibTorch's layer would
  // hold in bfloat16 where it is read again: q, k, v, the attention output, a projection's input.
  const bool bf16Compute = weights.embedding.scalar_type() == at::kBFloat16;
  const at::ScalarType cacheType = cache.scalarType();
  const int64_t elementBytes = static_cast<int64_t>(c10::elementSize(cacheType));
  widenVector(weights.embedding[token], x);
  const float* cosSin = rope.cosSinAt(ropePos);  // [D/2][cos, sin]
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  for (int layer = 0; layer < config.nLayers; ++layer) {
    const LayerWeights& w = weights.layers[layer];
    widenVector(w.attnNorm, normWeight);
    rmsNormRow(x, normWeight, C, config.normEps, normed);
    project(w.wqkv, normed, qkv);  // [q Hq*D | k Hkv*D | v Hkv*D]
    if (w.bqkv.defined()) {
      widenVector(w.bqkv, bias);
      for (int64_t i = 0; i < qkvRows; ++i) qkv[i] += bias[i];
    }
    float* q = qkv;
    float* k = qkv + Hq * D;
    if (config.qkNorm) {  // Qwen3: each head's q and k over D, before RoPE
      widenVector(w.qNorm, normWeight);
      for (int64_t h = 0; h < Hq; ++h)
        rmsNormRow(q + h * D, normWeight, D, config.normEps, q + h * D);
      widenVector(w.kNorm, normWeight);
      for (int64_t h = 0; h < Hkv; ++h) {
        rmsNormRow(k + h * D, normWeight, D, config.normEps, k + h * D);
      }
    }
    if (observer) std::copy_n(k, Hkv * D, keyBeforeRope.data());
    ropeRow(q, Hq, D, cosSin, config.ropeStyle);
    ropeRow(k, Hkv, D, cosSin, config.ropeStyle);
    if (bf16Compute) roundToBfloat16(qkv, qkvRows);  // q, k, v as LibTorch's layer holds them
    // The pending token's key and value after each head's own slots (as KvCache::write does).
    const KvCache::RawLayer stored = cache.rawLayer(layer);
    for (int64_t h = 0; h < Hkv; ++h) {
      const int64_t at = h * stored.headStride + int64_t{cache.slotCount(layer, h)} * D;
      store(k + h * D, D, cacheType, stored.keys, at);
      store(k + (Hkv + h) * D, D, cacheType, stored.values, at);
    }

    if (observer) {  // LlamaModel's order and shapes (model/layer_observer.h)
      observer->onTensor(layer, "k_prerope", heads(keyBeforeRope.data(), Hkv));
      observer->onTensor(layer, "k", heads(k, Hkv));
      observer->onTensor(layer, "v", heads(k + Hkv * D, Hkv));
      observer->onTensor(layer, "q", heads(q, Hq));
    }

    const at::Tensor mask = layerMask(cache, config, layer);
    const int64_t Tk = stored.slots;
    scores.resize(static_cast<size_t>(Hq * Tk));
    Attention a{q,
                static_cast<const char*>(stored.keys),
                static_cast<const char*>(stored.values),
                kernels::weightTypeOf(cacheType),
                stored.headStride * elementBytes,
                mask.defined() ? mask.data_ptr<float>() : nullptr,
                mask.defined() ? mask.size(0) : 1,
                G,
                Hq,
                Tk,
                D,
                scale,
                scores.data(),
                attended,
                1};
    if (Tk * D >= kThreadedMinElements && kernels::poolThreads() > 1) {
      a.tasks = static_cast<int>(std::min<int64_t>(kernels::poolThreads(), Hq));
      kernels::runOnPool(a.tasks, attentionTask, &a);
    } else {
      attentionTask(0, &a);
    }
    if (bf16Compute) roundToBfloat16(attended, Hq * D);
    if (observer && observer->wantsAttention()) {
      observer->onTensor(layer, "attn", at::from_blob(scores.data(), {Hq, 1, Tk}, asFloat));
    }
    if (observer) observer->onTensor(layer, "attn_out", heads(attended, Hq));
    project(w.wo, attended, normed);  // [C]
    for (int64_t i = 0; i < C; ++i) x[i] += normed[i];

    widenVector(w.ffnNorm, normWeight);
    rmsNormRow(x, normWeight, C, config.normEps, normed);
    project(w.w13, normed, ffn);  // [gate F | up F]
    siluGateRow(ffn, F, ffn);     // [F]: silu(gate) * up, in place over the gate
    project(w.w2, ffn, normed);   // [C]
    for (int64_t i = 0; i < C; ++i) x[i] += normed[i];
  }
  widenVector(weights.finalNorm, normWeight);
  rmsNormRow(x, normWeight, C, config.normEps, normed);
  at::Tensor logits = at::empty({weights.classifier.size(0)}, at::kFloat);  // [V]
  project(weights.classifier, normed, logits.data_ptr<float>());
  return logits;
}

}  // namespace kvs
