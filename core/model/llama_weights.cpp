#include "model/llama_weights.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <sstream>

#include "cache/mapped_storage.h"
#include "util/error.h"

namespace kvs {
namespace {

void checkShape(const at::Tensor& t, std::vector<int64_t> expected, const char* name) {
  require(t.defined(), std::string("weights: tensor '") + name + "' is missing");
  if (t.sizes() != at::IntArrayRef(expected)) {
    std::ostringstream msg;
    msg << "weights: tensor '" << name << "' has shape " << t.sizes() << ", expected "
        << at::IntArrayRef(expected);
    throw KvsError(msg.str());
  }
}

}  // namespace

LlamaWeights fuseWeights(const ModelConfig& c, const StackedWeights& s,
                         const LayerProgress& progress, std::optional<at::ScalarType> dtype) {
  const int64_t L = c.nLayers, C = c.dim, F = c.hiddenDim, V = c.vocabSize;
  const int64_t q = int64_t{c.nHeads} * c.headDim(), kv = c.kvDim();
  checkShape(s.embedding, {V, C}, "embedding");
  checkShape(s.attnNorm, {L, C}, "attention_norm");
  checkShape(s.wq, {L, q, C}, "wq");
  checkShape(s.wk, {L, kv, C}, "wk");
  checkShape(s.wv, {L, kv, C}, "wv");
  checkShape(s.wo, {L, C, q}, "wo");
  checkShape(s.ffnNorm, {L, C}, "ffn_norm");
  checkShape(s.w1, {L, F, C}, "w1");
  checkShape(s.w2, {L, C, F}, "w2");
  checkShape(s.w3, {L, F, C}, "w3");
  checkShape(s.finalNorm, {C}, "final_norm");
  if (!c.sharedClassifier) checkShape(s.classifier, {V, C}, "classifier");
  const int64_t D = c.headDim();
  if (c.qkvBias) {
    checkShape(s.bq, {L, q}, "bq");
    checkShape(s.bk, {L, kv}, "bk");
    checkShape(s.bv, {L, kv}, "bv");
  }
  if (c.qkNorm) {
    checkShape(s.qNorm, {L, D}, "q_norm");
    checkShape(s.kNorm, {L, D}, "k_norm");
  }

  // Every tensor is copied (converted on the way when dtype differs), one layer at a time, so
  // the stacked tensors may be views of a mapped file that is unmapped after the load, and a
  // converting load never holds more than one layer of float32 copies besides its result.
  // Large ones land in huge pages (cache/mapped_storage.h: copyForWeights).
  auto copy = [&](const at::Tensor& t) {
    return copyForWeights(t, dtype.value_or(t.scalar_type()));
  };
  auto fuse = [&](std::initializer_list<at::Tensor> parts) {
    return concatForWeights(parts, dtype.value_or(parts.begin()->scalar_type()));
  };
  LlamaWeights w;
  w.embedding = copy(s.embedding);
  w.finalNorm = copy(s.finalNorm);
  w.classifier = c.sharedClassifier ? w.embedding : copy(s.classifier);
  w.layers.reserve(L);
  for (int64_t l = 0; l < L; ++l) {
    LayerWeights layer;
    layer.attnNorm = copy(s.attnNorm[l]);
    layer.wqkv = fuse({s.wq[l], s.wk[l], s.wv[l]});
    layer.wo = copy(s.wo[l]);
    layer.ffnNorm = copy(s.ffnNorm[l]);
    layer.w13 = fuse({s.w1[l], s.w3[l]});
    layer.w2 = copy(s.w2[l]);
    if (c.qkvBias) layer.bqkv = fuse({s.bq[l], s.bk[l], s.bv[l]});
    if (c.qkNorm) {
      layer.qNorm = copy(s.qNorm[l]);
      layer.kNorm = copy(s.kNorm[l]);
    }
    w.layers.push_back(std::move(layer));
    reportLayer(progress, static_cast<int>(l) + 1, static_cast<int>(L));
  }
  return w;
}

void reportLayer(const LayerProgress& progress, int done, int total) {
  if (progress && !progress(done, total)) {
    throw KvsError("loading was stopped; load the model again to use it");
  }
}

LlamaWeights mapWeights(LlamaWeights w, const std::function<at::Tensor(const at::Tensor&)>& f) {
  const bool shared = w.classifier.is_same(w.embedding);
  w.embedding = f(w.embedding);
  w.finalNorm = f(w.finalNorm);
  w.classifier = shared ? w.embedding : f(w.classifier);
  for (auto& l : w.layers) {
    for (at::Tensor* t :
         {&l.attnNorm, &l.wqkv, &l.wo, &l.ffnNorm, &l.w13, &l.w2, &l.bqkv, &l.qNorm, &l.kNorm}) {
      if (t->defined()) *t = f(*t);  // a family's optional tensors stay undefined
    }
  }
  return w;
}

LlamaWeights convertWeights(LlamaWeights w, at::ScalarType dtype) {
  return mapWeights(std::move(w), [dtype](const at::Tensor& t) { return t.to(dtype); });
}

StackedWeights randomWeights(const ModelConfig& c, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t L = c.nLayers, C = c.dim, F = c.hiddenDim, V = c.vocabSize;
  const int64_t q = int64_t{c.nHeads} * c.headDim(), kv = c.kvDim();
  auto normal = [&](std::vector<int64_t> shape) {
    return at::normal(0.0, 0.02, shape, gen, at::TensorOptions().dtype(at::kFloat));
  };
  StackedWeights s;
  s.embedding = normal({V, C});
  s.attnNorm = at::ones({L, C});
  s.wq = normal({L, q, C});
  s.wk = normal({L, kv, C});
  s.wv = normal({L, kv, C});
  s.wo = normal({L, C, q});
  s.ffnNorm = at::ones({L, C});
  s.w1 = normal({L, F, C});
  s.w2 = normal({L, C, F});
  s.w3 = normal({L, F, C});
  s.finalNorm = at::ones({C});
  if (!c.sharedClassifier) s.classifier = normal({V, C});
  const int64_t D = c.headDim();
  auto scaled = [&](std::vector<int64_t> shape, double offset) {
    return at::normal(0.0, 0.1, shape, gen, at::TensorOptions().dtype(at::kFloat)).add_(offset);
  };
  if (c.qkvBias) {
    s.bq = scaled({L, q}, 0);
    s.bk = scaled({L, kv}, 0);
    s.bv = scaled({L, kv}, 0);
  }
  if (c.qkNorm) {
    s.qNorm = scaled({L, D}, 1);
    s.kNorm = scaled({L, D}, 1);
  }
  return s;
}

}  // namespace kvs
