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

// The architecture config.json declares; llama2.c files are kLlama. The families differ only in
// the attention's details, which ModelConfig spells out (qkvBias, qkNorm, slidingWindow, ...).
enum class ModelFamily {
  kLlama,    // LlamaForCausalLM: Llama 2, Llama 3.x
  kMistral,  // MistralForCausalLM
  kQwen2,    // Qwen2ForCausalLM: Qwen2, Qwen2.5
  kQwen3,    // Qwen3ForCausalLM
};

const char* toString(ModelFamily family);          // "llama", "mistral", "qwen2", "qwen3"
const char* architectureName(ModelFamily family);  // "LlamaForCausalLM", ...

// rope_scaling of type "llama3" (Llama 3.1 and later): RoPE's inverse frequencies rescaled for a
// context longer than the one trained on (see ropeInverseFrequencies in rope.h). factor 0: none.
struct RopeScaling {
  float factor = 0;              // low frequencies are divided by it
  float lowFreqFactor = 0;       // wavelengths above original / lowFreqFactor: divided
  float highFreqFactor = 0;      // wavelengths below original / highFreqFactor: kept
  int originalMaxPositions = 0;  // the context trained on before the extension
  bool enabled() const { return factor > 0; }
};

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
constexpr int kMaxHeadDim = 1 << 12;    // D when config.json gives it (real ones: 64 to 256)
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
  ModelFamily family = ModelFamily::kLlama;
  int headDimension = 0;  // D when config.json gives head_dim apart from C / Hq (Qwen3); 0: C / Hq
  RopeScaling ropeScaling;
  bool qkvBias = false;  // q, k and v projections have biases (Qwen2)
  bool qkNorm = false;   // RMSNorm over each head's q and k before RoPE (Qwen3)
  // A query at position p attends to the keys of positions p - W + 1 .. p only (Mistral's
  // sliding_window W); 0: to every earlier position.
  int slidingWindow = 0;

  int headDim() const { return headDimension > 0 ? headDimension : dim / nHeads; }  // D
  int kvDim() const { return nKvHeads * headDim(); }                                // Hkv * D
  int groupSize() const { return nHeads / nKvHeads; }                               // G

  // Number of weights (embedding counted once when shared).
  int64_t parameterCount() const;
  // Bytes the full K and V cache holds per token over all layers.
  int64_t kvBytesPerToken(int bytesPerElement = 4) const;

  // Throws KvsError naming the first inconsistent or out-of-range field (see model_limits).
  void validate() const;
};

nlohmann::json toJson(const ModelConfig& config);
// One line for `info`: the architecture and what sets it apart, e.g. "Qwen3ForCausalLM: q/k
// norms, head dim 128 (hidden / heads 64)" or "LlamaForCausalLM: llama3 rope scaling x8 from 8192
// positions".
std::string describeFamily(const ModelConfig& config);
// null, or the llama3 object as config.json writes it.
nlohmann::json ropeScalingJson(const RopeScaling& scaling);
// The fields toJson adds beyond a Llama 2's (head_dim when not C / Hq, rope_scaling,
// sliding_window, qkv_bias, qk_norm) read back from a recording's model_config into c, whose
// dim and heads are already set; absent fields keep Llama 2's values. nlohmann's exceptions on
// wrong types are the caller's to turn into a message.
void readRecordedExtras(const nlohmann::json& j, ModelConfig& config);

}  // namespace kvs
