#include "model/model_config.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace kvs {

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
  auto positive = [](int value, const char* name) {
    require(value > 0, std::string("model config: ") + name + " must be positive, got " +
                           std::to_string(value) + " (corrupt or foreign checkpoint?)");
  };
  positive(dim, "dim");
  positive(hiddenDim, "hidden_dim");
  positive(nLayers, "n_layers");
  positive(nHeads, "n_heads");
  positive(nKvHeads, "n_kv_heads");
  positive(vocabSize, "vocab_size");
  positive(seqLen, "seq_len");
  require(dim % nHeads == 0, "model config: dim " + std::to_string(dim) +
                                 " is not divisible by n_heads " + std::to_string(nHeads));
  require(nHeads % nKvHeads == 0, "model config: n_heads " + std::to_string(nHeads) +
                                      " is not a multiple of n_kv_heads " +
                                      std::to_string(nKvHeads));
  require(headDim() % 2 == 0,
          "model config: head dim " + std::to_string(headDim()) + " must be even for RoPE");
  require(ropeTheta > 0, "model config: rope_theta must be positive");
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
