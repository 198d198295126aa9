#pragma once
// Tiny random-weight folders of each supported family, written by the exporter, with the
// projections scaled up so that attention is sharp enough for RoPE, biases, norms and the
// window to change the logits well beyond float32 noise.

#include <ATen/ATen.h>

#include <string>

#include "model/hf_export.h"
#include "model/llama_weights.h"
#include "model/model_config.h"

namespace kvs::test {

enum class TinyFamily { kLlama3, kLlama32Tied, kMistral, kQwen2, kQwen3 };

// dim 32, 2 layers, 4 query heads over 2 KV heads, vocabulary 40, 32 positions, and each
// family's own: llama3 RoPE scaling (factor 8, low 1, high 4, from 512 positions; with D = 8
// and theta 500000 the four frequencies fall one in the kept band, one in the blended, two in
// the divided), Mistral's window of 5, Qwen2's biases and tied embeddings, Qwen3's q/k norms
// with head_dim 16 (hidden / heads = 8).
inline ModelConfig tinyFamilyConfig(TinyFamily f) {
  ModelConfig c;
  c.dim = 32;
  c.hiddenDim = 48;
  c.nLayers = 2;
  c.nHeads = 4;
  c.nKvHeads = 2;
  c.vocabSize = 40;
  c.seqLen = 32;
  c.normEps = 1e-5f;
  c.ropeTheta = 1e6f;
  c.ropeStyle = RopeStyle::kHalfSplit;
  c.sharedClassifier = false;
  switch (f) {
    case TinyFamily::kLlama32Tied:
      c.sharedClassifier = true;
      [[fallthrough]];
    case TinyFamily::kLlama3:
      c.family = ModelFamily::kLlama;
      c.ropeTheta = 500000.0f;
      c.ropeScaling = {8.0f, 1.0f, 4.0f, 512};
      break;
    case TinyFamily::kMistral:
      c.family = ModelFamily::kMistral;
      c.slidingWindow = 5;
      break;
    case TinyFamily::kQwen2:
      c.family = ModelFamily::kQwen2;
      c.qkvBias = true;
      c.sharedClassifier = true;
      break;
    case TinyFamily::kQwen3:
      c.family = ModelFamily::kQwen3;
      c.qkNorm = true;
      c.headDimension = 16;
      break;
  }
  return c;
}

// Writes the family's folder at `folder` (F32) and returns its config.
inline ModelConfig writeTinyFamily(const std::string& folder, TinyFamily f, uint64_t seed = 7) {
  const ModelConfig c = tinyFamilyConfig(f);
  StackedWeights w = randomWeights(c, seed);
  w.wq.mul_(10);
  w.wk.mul_(10);
  if (c.sharedClassifier) {
    w.embedding.mul_(20);
  } else {
    w.classifier.mul_(20);
  }
  writeHfCheckpoint(folder, c, w, HfExportOptions{});
  return c;
}

}  // namespace kvs::test
