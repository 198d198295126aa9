#include "model/model_config.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/error.h"

namespace kvs {
namespace {

// "1e-05", "1e+300", "nan": std::to_string would print 0.000000 for a tiny eps.
std::string shortNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

const char* toString(RopeStyle style) {
  return style == RopeStyle::kAdjacentPairs ? "adjacent-pairs" : "half-split";
}

const char* toString(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama:
      return "llama";
    case ModelFamily::kMistral:
      return "mistral";
    case ModelFamily::kQwen2:
      return "qwen2";
    case ModelFamily::kQwen3:
      return "qwen3";
  }
  return "?";
}

const char* architectureName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama:
      return "LlamaForCausalLM";
    case ModelFamily::kMistral:
      return "MistralForCausalLM";
    case ModelFamily::kQwen2:
      return "Qwen2ForCausalLM";
    case ModelFamily::kQwen3:
      return "Qwen3ForCausalLM";
  }
  return "?";
}

int64_t ModelConfig::parameterCount() const {
  const int64_t c = dim, f = hiddenDim, l = nLayers, v = vocabSize, kv = kvDim();
  const int64_t q = int64_t{nHeads} * headDim();
  const int64_t perLayer = c                               // attention norm
                           + q * c                         // wq
                           + 2 * kv * c                    // wk, wv
                           + c * q                         // wo
                           + (qkvBias ? q + 2 * kv : 0)    // q, k, v biases
                           + (qkNorm ? 2 * headDim() : 0)  // q_norm, k_norm
                           + c                             // ffn norm
                           + 3 * f * c;                    // w1, w2, w3
  return v * c + l * perLayer + c + (sharedClassifier ? 0 : v * c);
}

int64_t ModelConfig::kvBytesPerToken(int bytesPerElement) const {
  return int64_t{2} * nLayers * kvDim() * bytesPerElement;
}

void ModelConfig::validate() const {
  auto inRange = [](int value, int max, const char* name) {
    require(value > 0 && value <= max, std::string("model config: ") + name + " must be in 1.." +
                                           std::to_string(max) + ", got " + std::to_string(value) +
                                           " (corrupt or foreign checkpoint?)");
  };
  inRange(dim, model_limits::kMaxDim, "dim");
  inRange(hiddenDim, model_limits::kMaxHiddenDim, "hidden_dim");
  inRange(nLayers, model_limits::kMaxLayers, "n_layers");
  inRange(nHeads, model_limits::kMaxHeads, "n_heads");
  inRange(nKvHeads, model_limits::kMaxHeads, "n_kv_heads");
  inRange(vocabSize, model_limits::kMaxVocab, "vocab_size");
  inRange(seqLen, model_limits::kMaxSeqLen, "seq_len");
  if (headDimension == 0) {
    require(dim % nHeads == 0, "model config: dim " + std::to_string(dim) +
                                   " is not divisible by n_heads " + std::to_string(nHeads));
  } else {
    inRange(headDimension, model_limits::kMaxHeadDim, "head_dim");
  }
  require(slidingWindow >= 0, "model config: sliding_window must be 0 (none) or a window, got " +
                                  std::to_string(slidingWindow));
  if (ropeScaling.enabled()) {
    const RopeScaling& s = ropeScaling;
    // Negated comparisons so that NaN fails them too. high > low: the smoothing divides by it.
    require(!(s.factor < 1) && !(s.factor > 1e4) && s.lowFreqFactor > 0 &&
                s.highFreqFactor > s.lowFreqFactor && std::isfinite(s.highFreqFactor) &&
                s.originalMaxPositions > 0 && s.originalMaxPositions <= model_limits::kMaxSeqLen,
            "model config: llama3 rope_scaling needs factor in [1, 1e4], 0 < low_freq_factor < "
            "high_freq_factor and original_max_position_embeddings in 1.." +
                std::to_string(model_limits::kMaxSeqLen) + "; got factor " + shortNumber(s.factor) +
                ", low " + shortNumber(s.lowFreqFactor) + ", high " +
                shortNumber(s.highFreqFactor) + ", original " +
                std::to_string(s.originalMaxPositions));
  }
  require(nHeads % nKvHeads == 0, "model config: n_heads " + std::to_string(nHeads) +
                                      " is not a multiple of n_kv_heads " +
                                      std::to_string(nKvHeads));
  require(headDim() % 2 == 0,
          "model config: head dim " + std::to_string(headDim()) + " must be even for RoPE");
  // Negated comparisons so that NaN fails them too.
  require(std::isfinite(ropeTheta) && ropeTheta > 0 && !(ropeTheta > model_limits::kMaxRopeTheta),
          "model config: rope_theta must be a finite number in (0, 1e12], got " +
              shortNumber(ropeTheta));
  require(std::isfinite(normEps) && normEps > 0 && !(normEps > model_limits::kMaxNormEps),
          "model config: norm_eps must be in (0, 0.1], got " + shortNumber(normEps));
}

nlohmann::json toJson(const ModelConfig& c) {
  return nlohmann::json{{"dim", c.dim},
                        {"hidden_dim", c.hiddenDim},
                        {"n_layers", c.nLayers},
                        {"n_heads", c.nHeads},
                        {"n_kv_heads", c.nKvHeads},
                        {"head_dim", c.headDim()},
                        {"vocab_size", c.vocabSize},
                        {"seq_len", c.seqLen},
                        {"rope_theta", c.ropeTheta},
                        {"norm_eps", c.normEps},
                        {"shared_classifier", c.sharedClassifier},
                        {"rope_style", toString(c.ropeStyle)},
                        {"family", toString(c.family)},
                        {"rope_scaling", ropeScalingJson(c.ropeScaling)},
                        {"qkv_bias", c.qkvBias},
                        {"qk_norm", c.qkNorm},
                        {"sliding_window", c.slidingWindow}};
}

std::string describeFamily(const ModelConfig& c) {
  std::vector<std::string> traits;
  if (c.ropeScaling.enabled()) {
    traits.push_back("llama3 rope scaling x" + shortNumber(c.ropeScaling.factor) + " from " +
                     std::to_string(c.ropeScaling.originalMaxPositions) + " positions");
  }
  if (c.slidingWindow > 0) {
    traits.push_back("sliding window " + std::to_string(c.slidingWindow));
  } else if (c.family == ModelFamily::kMistral) {
    traits.push_back("no sliding window");
  }
  if (c.qkvBias) traits.push_back("q/k/v biases");
  if (c.qkNorm) traits.push_back("q/k norms");
  if (c.headDimension > 0 && c.dim % c.nHeads == 0 && c.headDimension != c.dim / c.nHeads) {
    traits.push_back("head dim " + std::to_string(c.headDimension) + " (hidden / heads " +
                     std::to_string(c.dim / c.nHeads) + ")");
  }
  if (c.sharedClassifier) traits.push_back("tied embeddings");
  std::string text = architectureName(c.family);
  for (size_t i = 0; i < traits.size(); ++i) text += (i == 0 ? ": " : ", ") + traits[i];
  return text;
}

nlohmann::json ropeScalingJson(const RopeScaling& s) {
  if (!s.enabled()) return nullptr;
  return {{"rope_type", "llama3"},
          {"factor", s.factor},
          {"low_freq_factor", s.lowFreqFactor},
          {"high_freq_factor", s.highFreqFactor},
          {"original_max_position_embeddings", s.originalMaxPositions}};
}

void readRecordedExtras(const nlohmann::json& j, ModelConfig& c) {
  if (j.contains("head_dim")) {
    const int d = j.at("head_dim").get<int>();
    if (c.nHeads <= 0 || c.dim % c.nHeads != 0 || d != c.dim / c.nHeads) c.headDimension = d;
  }
  const nlohmann::json s = j.value("rope_scaling", nlohmann::json());
  if (s.is_object()) {
    c.ropeScaling.factor = s.at("factor").get<float>();
    c.ropeScaling.lowFreqFactor = s.at("low_freq_factor").get<float>();
    c.ropeScaling.highFreqFactor = s.at("high_freq_factor").get<float>();
    c.ropeScaling.originalMaxPositions = s.at("original_max_position_embeddings").get<int>();
  }
  const std::string family = j.value("family", std::string(toString(ModelFamily::kLlama)));
  for (ModelFamily f :
       {ModelFamily::kLlama, ModelFamily::kMistral, ModelFamily::kQwen2, ModelFamily::kQwen3}) {
    if (family == toString(f)) c.family = f;
  }
  c.slidingWindow = j.value("sliding_window", 0);
  c.qkvBias = j.value("qkv_bias", false);
  c.qkNorm = j.value("qk_norm", false);
}

}  // namespace kvs
