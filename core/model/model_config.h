#pragma once
// Model hyper-parameters, independent of the file format they were read from.
//
// Dimension glossary used in shape comments throughout core/:
//   L layers, T tokens, C hidden (dim), F feed-forward hidden, Hq query heads, Hkv KV heads,
//   G = Hq / Hkv query heads per KV head (GQA group), D head dim = C / Hq, V vocab,
//   S slots in a compressed cache.

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace kvs {

// How RoPE pairs the dimensions of a head. A property of the checkpoint format: llama2.c and Meta
// checkpoints rotate adjacent pairs; Hugging Face stores q/k permuted for rotate-half.
enum class RopeStyle {
  kAdjacentPairs,  // (2i, 2i+1), llama2.c / Meta
  kHalfSplit,      // (i, i + D/2), Hugging Face
};

const char* toString(RopeStyle style);

struct ModelConfig {
  int dim = 0;        // C
  int hiddenDim = 0;  // F
  int nLayers = 0;    // L
  int nHeads = 0;     // Hq
  int nKvHeads = 0;   // Hkv (< Hq for grouped-query attention)
  int vocabSize = 0;  // V
  int seqLen = 0;     // maximum context, in positions
  float ropeTheta = 10000.0f;
  float normEps = 1e-5f;
  bool sharedClassifier = true;  // classifier weights are the token embedding
  RopeStyle ropeStyle = RopeStyle::kAdjacentPairs;

  int headDim() const { return dim / nHeads; }         // D
  int kvDim() const { return nKvHeads * headDim(); }   // Hkv * D
  int groupSize() const { return nHeads / nKvHeads; }  // G

  // Number of weights (embedding counted once when shared).
  int64_t parameterCount() const;
  // Bytes the full K and V cache holds per token over all layers.
  int64_t kvBytesPerToken(int bytesPerElement = 4) const;

  // Throws KvsError naming the first inconsistent field.
  void validate() const;
};

nlohmann::json toJson(const ModelConfig& config);

}  // namespace kvs
