#include "model/hf_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include "model/model_loader.h"

#include "util/error.h"

namespace kvs {
namespace {

// Far above any Llama; keeps the size arithmetic in int64 and rejects garbage.
constexpr int64_t kMaxField = 1 << 22;

int intField(const nlohmann::json& j, const char* key, const std::string& file) {
  require(j.contains(key), file + " has no \"" + std::string(key) +
                               "\" (not a Llama config.json, or an incomplete one)");
  const auto& v = j.at(key);
  require(v.is_number_integer() && v.get<int64_t>() > 0 && v.get<int64_t>() <= kMaxField,
          file + ": \"" + key + "\" must be a positive whole number, got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

float floatField(const nlohmann::json& j, const char* key, float fallback,
                 const std::string& file) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  const auto& v = j.at(key);
  require(v.is_number() && v.get<double>() > 0,
          file + ": \"" + key + "\" must be a positive number, got " + v.dump());
  return v.get<float>();
}

}  // namespace

std::string hfDtypeName(at::ScalarType type) {
  require(type == at::kFloat || type == at::kBFloat16 || type == at::kHalf,
          std::string("no Hugging Face name for dtype ") + c10::toString(type));
  return dtypeName(type);  // the names Hugging Face's torch_dtype uses
}

ModelConfig readHfConfig(const std::string& path) {
  std::ifstream in(path);
  require(in.good(), "cannot read " + path + " (a Hugging Face model folder needs config.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw KvsError(path + " is not valid JSON (" + std::string(e.what()) + ")");
  }
  require(j.is_object(), path + " is not a JSON object");
  std::string arch = "(none)";
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty())
    arch = j["architectures"][0].dump();
  require(arch == "\"LlamaForCausalLM\"",
          path + ": architecture " + arch +
              " is not supported; only LlamaForCausalLM (Llama 2 family) checkpoints are");
  if (j.contains("hidden_act")) {
    require(j["hidden_act"] == "silu", path + ": hidden_act " + j["hidden_act"].dump() +
                                           " is not supported (Llama uses silu)");
  }
  require(!j.contains("rope_scaling") || j["rope_scaling"].is_null(),
          path + ": rope_scaling " + (j.contains("rope_scaling") ? j["rope_scaling"].dump() : "") +
              " is not supported (Llama 2 has none)");
  require(!j.contains("attention_bias") || j["attention_bias"] == false,
          path + ": attention_bias is not supported (Llama 2 has none)");

  ModelConfig c;
  c.dim = intField(j, "hidden_size", path);
  c.hiddenDim = intField(j, "intermediate_size", path);
  c.nLayers = intField(j, "num_hidden_layers", path);
  c.nHeads = intField(j, "num_attention_heads", path);
  c.nKvHeads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                   ? intField(j, "num_key_value_heads", path)
                   : c.nHeads;  // older configs: no GQA
  c.vocabSize = intField(j, "vocab_size", path);
  c.seqLen = intField(j, "max_position_embeddings", path);
  c.normEps = floatField(j, "rms_norm_eps", 1e-6f, path);
  c.ropeTheta = floatField(j, "rope_theta", 10000.0f, path);
  c.sharedClassifier = j.value("tie_word_embeddings", false);
  c.ropeStyle = RopeStyle::kHalfSplit;
  try {
    c.validate();
  } catch (const KvsError& e) {
    throw KvsError(path + ": " + e.what());
  }
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    require(j["head_dim"] == c.headDim(),
            path + ": head_dim " + j["head_dim"].dump() + " differs from hidden_size / " +
                "num_attention_heads = " + std::to_string(c.headDim()) + " (not supported)");
  }
  return c;
}

nlohmann::json hfConfigJson(const ModelConfig& c, at::ScalarType dtype) {
  return nlohmann::json{{"architectures", {"LlamaForCausalLM"}},
                        {"model_type", "llama"},
                        {"hidden_act", "silu"},
                        {"hidden_size", c.dim},
                        {"intermediate_size", c.hiddenDim},
                        {"num_hidden_layers", c.nLayers},
                        {"num_attention_heads", c.nHeads},
                        {"num_key_value_heads", c.nKvHeads},
                        {"vocab_size", c.vocabSize},
                        {"max_position_embeddings", c.seqLen},
                        {"rms_norm_eps", c.normEps},
                        {"rope_theta", c.ropeTheta},
                        {"rope_scaling", nullptr},
                        {"tie_word_embeddings", c.sharedClassifier},
                        {"bos_token_id", 1},
                        {"eos_token_id", 2},
                        {"torch_dtype", hfDtypeName(dtype)}};
}

std::vector<HfTensorSpec> hfTensorSpecs(const ModelConfig& c) {
  const int64_t C = c.dim, F = c.hiddenDim, V = c.vocabSize;
  const int64_t q = int64_t{c.nHeads} * c.headDim(), kv = c.kvDim();
  std::vector<HfTensorSpec> specs = {{"model.embed_tokens.weight", {V, C}, -1}};
  for (int l = 0; l < c.nLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (auto& [name, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"input_layernorm.weight", {C}},
             {"self_attn.q_proj.weight", {q, C}},
             {"self_attn.k_proj.weight", {kv, C}},
             {"self_attn.v_proj.weight", {kv, C}},
             {"self_attn.o_proj.weight", {C, q}},
             {"post_attention_layernorm.weight", {C}},
             {"mlp.gate_proj.weight", {F, C}},
             {"mlp.up_proj.weight", {F, C}},
             {"mlp.down_proj.weight", {C, F}}}) {
      specs.push_back({p + name, shape, l});
    }
  }
  specs.push_back({"model.norm.weight", {C}, -1});
  if (!c.sharedClassifier) specs.push_back({"lm_head.weight", {V, C}, -1});
  return specs;
}

}  // namespace kvs
