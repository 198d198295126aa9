#include "model/model_config.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

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

int64_t ModelConfig::parameterCount() const {
  const int64_t c = dim, f = hiddenDim, l = nLayers, v = vocabSize, kv = kvDim();
  const int64_t perLayer = c             // attention norm
                           + c * c       // wq
                           + 2 * kv * c  // wk, wv
                           + c * c       // wo
                           + c           // ffn norm
                           + 3 * f * c;  // w1, w2, w3
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
  require(dim % nHeads == 0, "model config: dim " + std::to_string(dim) +
                                 " is not divisible by n_heads " + std::to_string(nHeads));
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
                        {"rope_style", toString(c.ropeStyle)}};
}

}  // namespace kvs
