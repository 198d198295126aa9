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

namespace {

// The architecture named by config.json, or KvsError naming what is supported.
ModelFamily familyOf(const nlohmann::json& j, const std::string& file) {
  std::string arch = "(none)";
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty())
    arch = shown(j["architectures"][0]);
  for (ModelFamily f :
       {ModelFamily::kLlama, ModelFamily::kMistral, ModelFamily::kQwen2, ModelFamily::kQwen3}) {
    if (arch == "\"" + std::string(architectureName(f)) + "\"") return f;
  }
  throw KvsError(file + ": architecture " + arch +
                 " is not supported; only LlamaForCausalLM (Llama 2, Llama 3.x), "
                 "MistralForCausalLM, Qwen2ForCausalLM (Qwen2, Qwen2.5) and Qwen3ForCausalLM "
                 "checkpoints are (mixture-of-experts and multimodal models are not)");
}

// rope_scaling: null, {"rope_type": "default"} (none) or llama3's; any other type is refused,
// as are llama3 parameters that are missing or not numbers. Older files name the type "type".
RopeScaling ropeScalingField(const nlohmann::json& j, const std::string& file) {
  if (!present(j, "rope_scaling")) return {};
  const nlohmann::json& s = j.at("rope_scaling");
  const std::string what = file + ": rope_scaling " + shown(s);
  require(s.is_object(), what + " is not an object");
  const char* typeKey = s.contains("rope_type") ? "rope_type" : "type";
  require(s.contains(typeKey) && s.at(typeKey).is_string(), what + " names no rope_type");
  const std::string type = s.at(typeKey).get<std::string>();
  if (type == "default") return {};
  require(type == "llama3", what + ": rope_type \"" + type +
                                "\" is not supported (only \"llama3\", Llama 3.1's, is; "
                                "linear, dynamic, yarn and longrope are not)");
  RopeScaling r;
  r.factor = realField(s, "factor", 0, 1e4, what);
  r.lowFreqFactor = realField(s, "low_freq_factor", 0, 1e4, what);
  r.highFreqFactor = realField(s, "high_freq_factor", 0, 1e4, what);
  r.originalMaxPositions =
      intField(s, "original_max_position_embeddings", model_limits::kMaxSeqLen, what);
  require(r.factor >= 1 && r.highFreqFactor > r.lowFreqFactor && r.lowFreqFactor > 0,
          what + ": llama3 scaling needs factor >= 1 and 0 < low_freq_factor < high_freq_factor");
  return r;
}

// The attention details each family has (see ModelConfig), refusing the options it does not
// implement: attention_bias (in Llama and Qwen3 it adds an o_proj bias too), Qwen's sliding
// window, sliding_window anywhere but Mistral.
void readFamilyFields(const nlohmann::json& j, ModelConfig& c, const std::string& path) {
  const std::string arch = architectureName(c.family);
  require(!boolField(j, "attention_bias", false, path),
          path + ": attention_bias is not supported (" + arch + " without it only)");
  require(!boolField(j, "mlp_bias", false, path),
          path + ": mlp_bias is not supported (" + arch + " has none)");
  const bool qwen = c.family == ModelFamily::kQwen2 || c.family == ModelFamily::kQwen3;
  if (qwen) {
    // Qwen configs carry a sliding_window that applies only with use_sliding_window.
    require(!boolField(j, "use_sliding_window", false, path),
            path + ": use_sliding_window true is not supported for " + arch +
                " (Qwen's per-layer sliding window; released Qwen2/2.5/3 models have false)");
    c.qkvBias = c.family == ModelFamily::kQwen2;  // always, without a config field
    c.qkNorm = c.family == ModelFamily::kQwen3;
  } else if (c.family == ModelFamily::kMistral) {
    c.slidingWindow = present(j, "sliding_window")
                          ? intField(j, "sliding_window", model_limits::kMaxSeqLen, path)
                          : 0;
  } else {
    require(!present(j, "sliding_window"),
            path + ": sliding_window " +
                (j.contains("sliding_window") ? shown(j["sliding_window"]) : "") +
                " is not supported for LlamaForCausalLM (Mistral's sliding window is)");
  }
  // Newer transformers list each layer's attention; only full attention is implemented per layer.
  if (present(j, "layer_types")) {
    const auto& types = j.at("layer_types");
    require(types.is_array(), path + ": \"layer_types\" must be a list");
    for (const auto& t : types) {
      require(t == "full_attention", path + ": layer_types holds " + shown(t) +
                                         "; only \"full_attention\" layers are supported");
    }
  }
  require(!present(j, "partial_rotary_factor") || j.at("partial_rotary_factor") == 1.0,
          path + ": partial_rotary_factor " +
              (j.contains("partial_rotary_factor") ? shown(j["partial_rotary_factor"]) : "") +
              " is not supported (RoPE over the whole head only)");
  if (c.family == ModelFamily::kQwen3) {
    // transformers' Qwen3 defaults a missing head_dim to 128, not hidden_size / heads: rather
    // than guess, a Qwen3 config must give it (every released one does).
    require(present(j, "head_dim"), path +
                                        ": Qwen3ForCausalLM config has no \"head_dim\" "
                                        "(Qwen3 gives it apart from hidden_size / heads)");
  }
  // Except in Llama, transformers' defaults for a missing KV-head count are not "no GQA".
  if (c.family != ModelFamily::kLlama) {
    require(present(j, "num_key_value_heads"),
            path + ": " + arch + " config has no \"num_key_value_heads\"");
  }
}

}  // namespace

ModelConfig readHfConfig(const std::string& path) {
  namespace limits = model_limits;
  const nlohmann::json j = readHfJsonFile(path, "model config (config.json)");
  require(j.is_object(), path + " is not a JSON object");
  ModelConfig c;
  c.family = familyOf(j, path);
  if (j.contains("hidden_act")) {
    require(j["hidden_act"] == "silu", path + ": hidden_act " + shown(j["hidden_act"]) +
                                           " is not supported (these families use silu)");
  }
  // transformers 5 writes rope_theta and the scaling together as rope_parameters; read it as
  // the rope_scaling it replaces (and refuse a file that has both, which would be ambiguous).
  const bool ropeParameters = present(j, "rope_parameters");
  if (ropeParameters) {
    const nlohmann::json& rp = j.at("rope_parameters");
    require(rp.is_object() && !present(j, "rope_scaling"),
            path + ": \"rope_parameters\" must be an object, and cannot come with rope_scaling");
    require(!present(rp, "partial_rotary_factor") || rp.at("partial_rotary_factor") == 1.0,
            path + ": rope_parameters' partial_rotary_factor is not supported");
    c.ropeScaling = ropeScalingField(nlohmann::json{{"rope_scaling", rp}}, path);
  } else {
    c.ropeScaling = ropeScalingField(j, path);
  }
  readFamilyFields(j, c, path);

  c.dim = intField(j, "hidden_size", limits::kMaxDim, path);
  c.hiddenDim = intField(j, "intermediate_size", limits::kMaxHiddenDim, path);
  c.nLayers = intField(j, "num_hidden_layers", limits::kMaxLayers, path);
  c.nHeads = intField(j, "num_attention_heads", limits::kMaxHeads, path);
  c.nKvHeads = present(j, "num_key_value_heads")
                   ? intField(j, "num_key_value_heads", limits::kMaxHeads, path)
                   : c.nHeads;  // older Llama configs: no GQA
  c.vocabSize = intField(j, "vocab_size", limits::kMaxVocab, path);
  c.seqLen = intField(j, "max_position_embeddings", limits::kMaxSeqLen, path);
  c.normEps = realField(j, "rms_norm_eps", 1e-6f, limits::kMaxNormEps, path);
  c.ropeTheta = realField(ropeParameters && !present(j, "rope_theta") ? j.at("rope_parameters") : j,
                          "rope_theta", 10000.0f, limits::kMaxRopeTheta, path);
  c.sharedClassifier = boolField(j, "tie_word_embeddings", false, path);
  c.ropeStyle = RopeStyle::kHalfSplit;
  // head_dim: when given (Qwen3, Mistral-Nemo) it sets the projections' shapes, which need not
  // be hidden_size wide; RoPE needs it even.
  if (present(j, "head_dim")) {
    c.headDimension = intField(j, "head_dim", limits::kMaxHeadDim, path);
    require(c.headDimension % 2 == 0,
            path + ": \"head_dim\" " + std::to_string(c.headDimension) + " must be even for RoPE");
  } else {
    // The relations between fields, under config.json's names (validate() below uses its own).
    require(c.dim % c.nHeads == 0, path + ": \"hidden_size\" " + std::to_string(c.dim) +
                                       " is not divisible by \"num_attention_heads\" " +
                                       std::to_string(c.nHeads));
  }
  require(c.nHeads % c.nKvHeads == 0,
          path + ": \"num_attention_heads\" " + std::to_string(c.nHeads) +
              " is not a multiple of \"num_key_value_heads\" " + std::to_string(c.nKvHeads));
  try {
    c.validate();
  } catch (const KvsError& e) {
    throw KvsError(path + ": " + e.what());
  }
  return c;
}

nlohmann::json hfConfigJson(const ModelConfig& c, at::ScalarType dtype) {
  static const char* const kModelTypes[] = {"llama", "mistral", "qwen2", "qwen3"};
  nlohmann::json j{{"architectures", {architectureName(c.family)}},
                   {"model_type", kModelTypes[static_cast<int>(c.family)]},
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
                   {"rope_scaling", ropeScalingJson(c.ropeScaling)},
                   {"tie_word_embeddings", c.sharedClassifier},
                   {"bos_token_id", 1},
                   {"eos_token_id", 2},
                   {"torch_dtype", hfDtypeName(dtype)}};
  if (c.headDimension > 0) j["head_dim"] = c.headDimension;
  switch (c.family) {
    case ModelFamily::kLlama:
      j["attention_bias"] = false;
      break;
    case ModelFamily::kMistral:
      j["sliding_window"] = c.slidingWindow > 0 ? nlohmann::json(c.slidingWindow) : nullptr;
      break;
    case ModelFamily::kQwen3:
      j["attention_bias"] = false;
      [[fallthrough]];
    case ModelFamily::kQwen2:
      j["use_sliding_window"] = false;
      j["sliding_window"] = nullptr;
      break;
  }
  return j;
}

std::vector<HfTensorSpec> hfTensorSpecs(const ModelConfig& c) {
  const int64_t C = c.dim, F = c.hiddenDim, V = c.vocabSize, D = c.headDim();
  const int64_t q = int64_t{c.nHeads} * D, kv = c.kvDim();
  using Shapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;
  Shapes layer = {{"input_layernorm.weight", {C}},
                  {"self_attn.q_proj.weight", {q, C}},
                  {"self_attn.k_proj.weight", {kv, C}},
                  {"self_attn.v_proj.weight", {kv, C}}};
  if (c.qkvBias) {
    layer.insert(layer.end(), {{"self_attn.q_proj.bias", {q}},
                               {"self_attn.k_proj.bias", {kv}},
                               {"self_attn.v_proj.bias", {kv}}});
  }
  if (c.qkNorm) {
    layer.insert(layer.end(), {{"self_attn.q_norm.weight", {D}}, {"self_attn.k_norm.weight", {D}}});
  }
  layer.insert(layer.end(), {{"self_attn.o_proj.weight", {C, q}},
                             {"post_attention_layernorm.weight", {C}},
                             {"mlp.gate_proj.weight", {F, C}},
                             {"mlp.up_proj.weight", {F, C}},
                             {"mlp.down_proj.weight", {C, F}}});
  std::vector<HfTensorSpec> specs = {{"model.embed_tokens.weight", {V, C}, -1}};
  for (int l = 0; l < c.nLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const auto& [name, shape] : layer) specs.push_back({p + name, shape, l});
  }
  specs.push_back({"model.norm.weight", {C}, -1});
  if (!c.sharedClassifier) specs.push_back({"lm_head.weight", {V, C}, -1});
  return specs;
}

}  // namespace kvs
