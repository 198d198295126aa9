#include "naive_llama.h"

#include <ATen/ATen.h>

#include <cmath>

namespace kvs::test {
namespace {

// out[o] = sum_i w[o, i] x[i], w: [rows, cols] row-major
void matvec(std::vector<float>& out, const float* w, const std::vector<float>& x, int rows) {
  const int cols = static_cast<int>(x.size());
  out.assign(rows, 0.0f);
  for (int o = 0; o < rows; ++o) {
    float sum = 0;
    for (int i = 0; i < cols; ++i) sum += w[o * cols + i] * x[i];
    out[o] = sum;
  }
}

std::vector<float> rmsnorm(const std::vector<float>& x, const float* w, float eps) {
  float ss = 0;
  for (float v : x) ss += v * v;
  const float scale = 1.0f / std::sqrt(ss / x.size() + eps);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = w[i] * (scale * x[i]);
  return out;
}

void rope(std::vector<float>& v, int pos, int headDim, float theta) {
  for (size_t i = 0; i < v.size(); i += 2) {
    const int d = static_cast<int>(i % headDim);
    const float angle = pos / std::pow(theta, static_cast<float>(d) / headDim);
    const float c = std::cos(angle), s = std::sin(angle);
    const float a = v[i], b = v[i + 1];
    v[i] = a * c - b * s;
    v[i + 1] = a * s + b * c;
  }
}

}  // namespace

NaiveResult naiveForward(const ModelConfig& c, const StackedWeights& w,
                         const std::vector<int>& tokens) {
  const int C = c.dim, F = c.hiddenDim, D = c.headDim(), kv = c.kvDim(), V = c.vocabSize;
  const int n = static_cast<int>(tokens.size()), G = c.groupSize();
  auto ptr = [](const at::Tensor& t) { return t.contiguous().data_ptr<float>(); };
  const float* emb = ptr(w.embedding);
  const float* cls = c.sharedClassifier ? emb : ptr(w.classifier);
  std::vector<std::vector<float>> keyCache(c.nLayers), valueCache(c.nLayers);
  NaiveResult result;
  result.keys.resize(c.nLayers);

  for (int pos = 0; pos < n; ++pos) {
    std::vector<float> x(emb + tokens[pos] * C, emb + (tokens[pos] + 1) * C);
    for (int l = 0; l < c.nLayers; ++l) {
      const auto h = rmsnorm(x, ptr(w.attnNorm[l]), c.normEps);
      std::vector<float> q, k, v;
      matvec(q, ptr(w.wq[l]), h, C);
      matvec(k, ptr(w.wk[l]), h, kv);
      matvec(v, ptr(w.wv[l]), h, kv);
      rope(q, pos, D, c.ropeTheta);
      rope(k, pos, D, c.ropeTheta);
      keyCache[l].insert(keyCache[l].end(), k.begin(), k.end());
      valueCache[l].insert(valueCache[l].end(), v.begin(), v.end());

      std::vector<float> att(C, 0.0f);
      for (int head = 0; head < c.nHeads; ++head) {
        const int kvHead = head / G;
        std::vector<float> scores(pos + 1);
        float maxScore = -INFINITY;
        for (int t = 0; t <= pos; ++t) {
          float s = 0;
          for (int d = 0; d < D; ++d) s += q[head * D + d] * keyCache[l][t * kv + kvHead * D + d];
          scores[t] = s / std::sqrt(static_cast<float>(D));
          maxScore = std::max(maxScore, scores[t]);
        }
        float total = 0;
        for (auto& s : scores) total += (s = std::exp(s - maxScore));
        for (int t = 0; t <= pos; ++t) {
          for (int d = 0; d < D; ++d) {
            att[head * D + d] += scores[t] / total * valueCache[l][t * kv + kvHead * D + d];
          }
        }
      }
      std::vector<float> o;
      matvec(o, ptr(w.wo[l]), att, C);
      for (int i = 0; i < C; ++i) x[i] += o[i];

      const auto h2 = rmsnorm(x, ptr(w.ffnNorm[l]), c.normEps);
      std::vector<float> gate, up, down;
      matvec(gate, ptr(w.w1[l]), h2, F);
      matvec(up, ptr(w.w3[l]), h2, F);
      for (int i = 0; i < F; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
      matvec(down, ptr(w.w2[l]), gate, C);
      for (int i = 0; i < C; ++i) x[i] += down[i];
    }
    std::vector<float> logits;
    matvec(logits, cls, rmsnorm(x, ptr(w.finalNorm), c.normEps), V);
    result.logits.push_back(std::move(logits));
  }
  result.keys = std::move(keyCache);
  return result;
}

}  // namespace kvs::test
