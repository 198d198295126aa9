#include "model/hf_config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/output_path.h"
#include "model/model_loader.h"
#include "util/error.h"

namespace kvs {
namespace {

// Far above any real config.json (a few KB) or safetensors index (~100 KB for 70B): a larger
// file is not one, and is refused before it is read into memory.
constexpr int64_t kMaxJsonFileBytes = 64 << 20;

// The value as the message shows it, shortened: a field may hold a megabyte of garbage.
std::string shown(const nlohmann::json& v) {
  const std::string text = v.dump();
  return text.size() <= 60 ? text : text.substr(0, 57) + "...";
}

bool present(const nlohmann::json& j, const char* key) {
  return j.contains(key) && !j.at(key).is_null();
}

// A required whole number in 1..max; booleans and 4096.5 are refused, not converted.
int intField(const nlohmann::json& j, const char* key, int max, const std::string& file) {
  require(j.contains(key), file + " has no \"" + std::string(key) +
                               "\" (not a Llama config.json, or an incomplete one)");
  const auto& v = j.at(key);
  require(v.is_number_integer() && v.get<int64_t>() > 0 && v.get<int64_t>() <= max &&
              (!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t(max)),
          file + ": \"" + key + "\" must be a whole number in 1.." + std::to_string(max) +
              ", got " + shown(v));
  return static_cast<int>(v.get<int64_t>());
}

// An optional number in (0, max]; absent or null: fallback. NaN cannot come from JSON, but an
// out-of-range literal such as 1e400 parses to infinity, which the range refuses.
float realField(const nlohmann::json& j, const char* key, float fallback, double max,
                const std::string& file) {
  if (!present(j, key)) return fallback;
  const auto& v = j.at(key);
  const std::string range = "(0, " + nlohmann::json(max).dump() + "]";
  require(v.is_number() && v.get<double>() > 0 && v.get<double>() <= max,
          file + ": \"" + key + "\" must be a number in " + range + ", got " + shown(v));
  return v.get<float>();
}

// An optional true/false; absent or null: fallback. "true", 1 and 0 are refused: a string or
// number here means the file was written by hand or by something that is not transformers.
bool boolField(const nlohmann::json& j, const char* key, bool fallback, const std::string& file) {
  if (!present(j, key)) return fallback;
  const auto& v = j.at(key);
  require(v.is_boolean(),
          file + ": \"" + key + "\" must be true or false (a JSON boolean), got " + shown(v));
  return v.get<bool>();
}

}  // namespace

std::string hfDtypeName(at::ScalarType type) {
  require(type == at::kFloat || type == at::kBFloat16 || type == at::kHalf,
          std::string("no Hugging Face name for dtype ") + c10::toString(type));
  return dtypeName(type);  // the names Hugging Face's torch_dtype uses
}

nlohmann::json readHfJsonFile(const std::string& path, const std::string& what) {
  requireRegularFile(path, what);  // a FIFO would block the read forever
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  require(!ec && size <= uint64_t(kMaxJsonFileBytes),
          "the " + what + " " + path + " is " + std::to_string(size) +
              " bytes, far larger than any real one; give the folder's own file");
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read the " + what + " " + path + ": " + std::strerror(errno));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw KvsError(path + " is not valid JSON (" + std::string(e.what()) + ")");
  }
}

ModelConfig readHfConfig(const std::string& path) {
  namespace limits = model_limits;
  const nlohmann::json j = readHfJsonFile(path, "model config (config.json)");
  require(j.is_object(), path + " is not a JSON object");
  std::string arch = "(none)";
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty())
    arch = shown(j["architectures"][0]);
  require(arch == "\"LlamaForCausalLM\"",
          path + ": architecture " + arch +
              " is not supported; only LlamaForCausalLM (Llama 2 family) checkpoints are");
  if (j.contains("hidden_act")) {
    require(j["hidden_act"] == "silu", path + ": hidden_act " + shown(j["hidden_act"]) +
                                           " is not supported (Llama uses silu)");
  }
  require(!present(j, "rope_scaling"),
          path + ": rope_scaling " + (j.contains("rope_scaling") ? shown(j["rope_scaling"]) : "") +
              " is not supported (Llama 2 has none)");
  require(!boolField(j, "attention_bias", false, path),
          path + ": attention_bias is not supported (Llama 2 has none)");
  require(!boolField(j, "mlp_bias", false, path),
          path + ": mlp_bias is not supported (Llama 2 has none)");

  ModelConfig c;
  c.dim = intField(j, "hidden_size", limits::kMaxDim, path);
  c.hiddenDim = intField(j, "intermediate_size", limits::kMaxHiddenDim, path);
  c.nLayers = intField(j, "num_hidden_layers", limits::kMaxLayers, path);
  c.nHeads = intField(j, "num_attention_heads", limits::kMaxHeads, path);
  c.nKvHeads = present(j, "num_key_value_heads")
                   ? intField(j, "num_key_value_heads", limits::kMaxHeads, path)
                   : c.nHeads;  // older configs: no GQA
  c.vocabSize = intField(j, "vocab_size", limits::kMaxVocab, path);
  c.seqLen = intField(j, "max_position_embeddings", limits::kMaxSeqLen, path);
  c.normEps = realField(j, "rms_norm_eps", 1e-6f, limits::kMaxNormEps, path);
  c.ropeTheta = realField(j, "rope_theta", 10000.0f, limits::kMaxRopeTheta, path);
  c.sharedClassifier = boolField(j, "tie_word_embeddings", false, path);
  c.ropeStyle = RopeStyle::kHalfSplit;
  // The relations between fields, under config.json's names (validate() below uses its own).
  require(c.dim % c.nHeads == 0, path + ": \"hidden_size\" " + std::to_string(c.dim) +
                                     " is not divisible by \"num_attention_heads\" " +
                                     std::to_string(c.nHeads));
  require(c.nHeads % c.nKvHeads == 0,
          path + ": \"num_attention_heads\" " + std::to_string(c.nHeads) +
              " is not a multiple of \"num_key_value_heads\" " + std::to_string(c.nKvHeads));
  if (present(j, "head_dim")) {
    const auto& v = j["head_dim"];
    require(v.is_number_integer() && v == c.headDim(),
            path + ": head_dim " + shown(v) + " differs from hidden_size / " +
                "num_attention_heads = " + std::to_string(c.headDim()) + " (not supported)");
  }
  try {
    c.validate();
  } catch (const KvsError& e) {
    throw KvsError(path + ": " + e.what());
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
