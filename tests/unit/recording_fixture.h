#pragma once
// Drives an Hdf5Recorder the way a forward pass does, with states that are a known function of
// (layer, source, head, position, dim), so tests can check every value read back.

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "io/hdf5_recorder.h"

namespace kvs::test {

inline ModelConfig recordingConfig() {
  ModelConfig c;
  c.dim = 32;
  c.hiddenDim = 64;
  c.nLayers = 3;
  c.nHeads = 4;
  c.nKvHeads = 2;  // GQA, G = 2
  c.vocabSize = 100;
  c.seqLen = 512;
  return c;
}

// [Hkv, n, D] states of positions first .. first+n-1.
inline at::Tensor syntheticStates(const ModelConfig& c, int layer, int source, int first, int n) {
  const auto h = at::arange(c.nKvHeads, at::kFloat).view({-1, 1, 1});
  const auto p = at::arange(first, first + n, at::kFloat).view({1, -1, 1});
  const auto d = at::arange(c.headDim(), at::kFloat).view({1, 1, -1});
  return at::sin(layer * 1.3f + source * 0.7f + h * 0.31f + p * 0.017f + d * 0.11f) * 2.0f;
}

// [Hq, n, n] causal attention rows of a prefill.
inline at::Tensor syntheticAttention(const ModelConfig& c, int layer, int n) {
  const auto scores = at::rand({c.nHeads, n, n}, at::TensorOptions().dtype(at::kFloat)) + layer;
  return at::softmax(scores + at::ones({n, n}).triu(1) * -1e9f, -1);
}

// One forward of n tokens at `first`, then the sampled token (id = position % 100).
inline void recordForward(Hdf5Recorder& r, const ModelConfig& c, int first, int n,
                          std::vector<at::Tensor>* attention = nullptr) {
  r.beginForward(first, n);
  for (int l = 0; l < c.nLayers; ++l) {
    r.onTensor(l, "k_prerope", syntheticStates(c, l, 0, first, n));
    r.onTensor(l, "k", syntheticStates(c, l, 1, first, n));
    r.onTensor(l, "v", syntheticStates(c, l, 2, first, n));
    if (r.wantsAttention()) {
      const at::Tensor a = syntheticAttention(c, l, n);
      if (attention) attention->push_back(a);
      r.onTensor(l, "attn", a);
    }
  }
  const int next = first + n;
  r.appendToken(next % 100, "piece" + std::to_string(next));
}

inline RecordingMeta recordingMeta(const ModelConfig& c, int promptTokens) {
  RecordingMeta m;
  m.config = c;
  m.checkpointPath = "/models/synthetic.bin";
  m.checkpointSha256 = std::string(64, 'a');
  m.tokenizerPath = "/models/tok.model";
  m.prompt = "Once upon a time ✓";
  for (int i = 0; i < promptTokens; ++i) {
    m.promptIds.push_back(i % 100);
    m.promptPieces.push_back("piece" + std::to_string(i));
  }
  m.seed = 42;
  m.command = "test";
  m.settings = R"({"steps": 64})";
  return m;
}

}  // namespace kvs::test
