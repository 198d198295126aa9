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

// Bounds on every field, far above any Llama-family model (Llama-3.1-405B: C 16384, F 53248,
// L 126, Hq 128, V 128256, 131072 positions; rms_norm_eps 1e-5 or 1e-6). They keep the size
// arithmetic in int64 and refuse garbage headers before anything is allocated; each checkpoint
// reader checks them under its own field names, and ModelConfig::validate() again.
namespace model_limits {
constexpr int kMaxDim = 1 << 16;        // C
constexpr int kMaxHiddenDim = 1 << 18;  // F
constexpr int kMaxLayers = 1 << 10;     // L
constexpr int kMaxHeads = 1 << 10;      // Hq and Hkv
constexpr int kMaxVocab = 1 << 22;      // V
constexpr int kMaxSeqLen = 1 << 20;     // positions (the RoPE table holds seq_len * D floats)
// RMSNorm's eps is added to mean(x^2): above ~0.1 it swamps the activations (1e300 turns every
// logit into the same value); 0 or below divides by zero.
constexpr double kMaxNormEps = 0.1;
// A finite float; above this every RoPE frequency but the first rounds to no rotation at all.
constexpr double kMaxRopeTheta = 1e12;
}  // namespace model_limits

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

  // Throws KvsError naming the first inconsistent or out-of-range field (see model_limits).
  void validate() const;
};

nlohmann::json toJson(const ModelConfig& config);

}  // namespace kvs
