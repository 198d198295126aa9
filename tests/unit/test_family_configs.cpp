// config.json and tensors of the new families that KV Studio does not understand are refused
// with a KvsError that names the field or tensor and says what is supported; what it does
// understand is read into ModelConfig as written (exporter round trip).

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "family_fixture.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/model_loader.h"
#include "model/rope.h"
#include "test_util.h"

namespace kvs {
namespace {

using test::TempDir;
using test::TinyFamily;

std::string openError(const std::string& folder) {
  return test::errorOf([&] { HfCheckpoint::open(folder); });
}

// The folder's config.json with edit applied; returns the error opening it gives.
std::string errorWithConfig(const std::string& folder,
                            const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = folder + "/config.json";
  const std::string original = test::readFile(path);
  nlohmann::json j = nlohmann::json::parse(original);
  edit(j);
  test::writeFile(path, j.dump());
  const std::string e = openError(folder);
  test::writeFile(path, original);
  return e;
}

// Rewrites model.safetensors with the header edit (the data stays; offsets are relative to it).
void editHeader(const std::string& folder, const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = folder + "/model.safetensors";
  const std::string bytes = test::readFile(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  edit(header);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>(uint64_t(text.size()) >> (8 * i));
  test::writeFile(path, len + text + bytes.substr(8 + n));
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(FamilyConfigs, ExportedConfigsReadBackAsWritten) {
  TempDir dir;
  for (TinyFamily f : {TinyFamily::kLlama3, TinyFamily::kLlama32Tied, TinyFamily::kMistral,
                       TinyFamily::kQwen2, TinyFamily::kQwen3}) {
    const std::string folder = dir.file("m" + std::to_string(static_cast<int>(f)));
    const ModelConfig written = test::writeTinyFamily(folder, f);
    const ModelConfig read = readHfConfig(folder + "/config.json");
    EXPECT_EQ(toJson(read), toJson(written)) << toJson(read).dump();
    EXPECT_EQ(describeModel(folder).config.parameterCount(), written.parameterCount());
  }
}

TEST(FamilyConfigs, UnderstoodOptionsAreAccepted) {
  TempDir dir;
  const std::string llama = dir.file("llama");
  test::writeTinyFamily(llama, TinyFamily::kLlama3);
  // Older files name the type "type"; {"rope_type": "default"} is no scaling.
  EXPECT_EQ(errorWithConfig(llama,
                            [](nlohmann::json& j) {
                              j["rope_scaling"].erase("rope_type");
                              j["rope_scaling"]["type"] = "llama3";
                            }),
            "(no error)");
  EXPECT_EQ(errorWithConfig(llama,
                            [](nlohmann::json& j) {
                              j["rope_scaling"] = {{"rope_type", "default"}};
                            }),
            "(no error)");
  const std::string mistral = dir.file("mistral");
  test::writeTinyFamily(mistral, TinyFamily::kMistral);
  EXPECT_EQ(errorWithConfig(llama,
                            [](nlohmann::json& j) {
                              j["layer_types"] = {"full_attention", "full_attention"};
                              j["partial_rotary_factor"] = 1.0;
                            }),
            "(no error)");
  // transformers 5's rope_parameters: theta and scaling in one object, read as the same model.
  const std::string path = llama + "/config.json";
  const std::string original = test::readFile(path);
  nlohmann::json v5 = nlohmann::json::parse(original);
  v5["rope_parameters"] = v5["rope_scaling"];
  v5["rope_parameters"]["rope_theta"] = v5["rope_theta"];
  v5.erase("rope_scaling");
  v5.erase("rope_theta");
  test::writeFile(path, v5.dump());
  EXPECT_EQ(toJson(readHfConfig(path)), toJson(test::tinyFamilyConfig(TinyFamily::kLlama3)));
  v5["rope_scaling"] = nullptr;
  v5["rope_parameters"]["rope_type"] = "yarn";
  test::writeFile(path, v5.dump());
  EXPECT_HAS(openError(llama), "rope_type \"yarn\" is not supported");
  v5["rope_scaling"] = {{"rope_type", "default"}};
  test::writeFile(path, v5.dump());
  EXPECT_HAS(openError(llama), "cannot come with rope_scaling");
  test::writeFile(path, original);
  EXPECT_EQ(errorWithConfig(mistral, [](nlohmann::json& j) { j["sliding_window"] = nullptr; }),
            "(no error)");
}

TEST(FamilyConfigs, WhatIsNotUnderstoodIsRefused) {
  TempDir dir;
  const std::string llama = dir.file("llama"), mistral = dir.file("mistral"),
                    qwen2 = dir.file("qwen2"), qwen3 = dir.file("qwen3");
  test::writeTinyFamily(llama, TinyFamily::kLlama3);
  test::writeTinyFamily(mistral, TinyFamily::kMistral);
  test::writeTinyFamily(qwen2, TinyFamily::kQwen2);
  test::writeTinyFamily(qwen3, TinyFamily::kQwen3);
  struct Case {
    std::string folder;
    std::function<void(nlohmann::json&)> edit;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {llama, [](auto& j) { j["rope_scaling"]["rope_type"] = "yarn"; },
       "rope_type \"yarn\" is not supported (only \"llama3\""},
      {llama,
       [](auto& j) {
         j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
       },
       "rope_type \"linear\" is not supported"},
      {llama, [](auto& j) { j["rope_scaling"].erase("rope_type"); }, "names no rope_type"},
      {llama, [](auto& j) { j["rope_scaling"].erase("factor"); },
       "llama3 scaling needs factor >= 1"},
      {llama, [](auto& j) { j["rope_scaling"]["high_freq_factor"] = 0.5; },
       "0 < low_freq_factor < high_freq_factor"},
      {llama, [](auto& j) { j["rope_scaling"]["original_max_position_embeddings"] = "8192"; },
       "\"original_max_position_embeddings\" must be a whole number"},
      {qwen2,
       [](auto& j) {
         j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
       },
       "rope_type \"yarn\" is not supported"},
      {llama, [](auto& j) { j["sliding_window"] = 4096; },
       "sliding_window 4096 is not supported for LlamaForCausalLM"},
      {qwen2, [](auto& j) { j["use_sliding_window"] = true; },
       "use_sliding_window true is not supported for Qwen2ForCausalLM"},
      {qwen3, [](auto& j) { j["use_sliding_window"] = true; },
       "use_sliding_window true is not supported for Qwen3ForCausalLM"},
      {qwen3, [](auto& j) { j.erase("head_dim"); }, "config has no \"head_dim\""},
      {qwen3,
       [](auto& j) {
         j["layer_types"] = {"full_attention", "sliding_attention"};
       },
       "layer_types holds \"sliding_attention\"; only \"full_attention\" layers"},
      {qwen2, [](auto& j) { j["partial_rotary_factor"] = 0.5; },
       "partial_rotary_factor 0.5 is not supported"},
      {qwen3, [](auto& j) { j["head_dim"] = 15; }, "\"head_dim\" 15 must be even for RoPE"},
      {qwen3, [](auto& j) { j["head_dim"] = "16"; }, "\"head_dim\" must be a whole number"},
      // A head_dim that disagrees with the tensors: the first projection sized by it is named.
      {qwen3, [](auto& j) { j["head_dim"] = 8; },
       "tensor 'model.layers.0.self_attn.q_proj.weight' in"},
      {qwen3, [](auto& j) { j["attention_bias"] = true; },
       "attention_bias is not supported (Qwen3ForCausalLM without it only)"},
      {mistral, [](auto& j) { j["sliding_window"] = 0; },
       "\"sliding_window\" must be a whole number in 1.."},
      {mistral, [](auto& j) { j.erase("num_key_value_heads"); },
       "MistralForCausalLM config has no \"num_key_value_heads\""},
      {mistral, [](auto& j) { j["architectures"] = {"MixtralForCausalLM"}; },
       "architecture \"MixtralForCausalLM\" is not supported; only LlamaForCausalLM"},
      {qwen2, [](auto& j) { j["architectures"] = {"Qwen2MoeForCausalLM"}; },
       "mixture-of-experts and multimodal models are not"},
      // A Qwen2 folder declared as Llama: its biases are not part of a Llama.
      {qwen2, [](auto& j) { j["architectures"] = {"LlamaForCausalLM"}; },
       "unexpected tensor 'model.layers.0.self_attn.k_proj.bias'"},
      // A Llama folder declared as Qwen3: the q/k norms it needs are missing.
      {llama,
       [](auto& j) {
         j["architectures"] = {"Qwen3ForCausalLM"};
         j["head_dim"] = 8;
       },
       "tensor 'model.layers.0.self_attn.q_norm.weight' is missing"},
  };
  for (const Case& c : cases) {
    const std::string e = errorWithConfig(c.folder, c.edit);
    EXPECT_HAS(e, c.expected);
  }
}

TEST(FamilyConfigs, QNormOfTheWrongShapeIsNamed) {
  TempDir dir;
  const std::string qwen3 = dir.file("qwen3");
  test::writeTinyFamily(qwen3, TinyFamily::kQwen3);
  editHeader(qwen3, [](nlohmann::json& h) {
    auto& e = h["model.layers.1.self_attn.q_norm.weight"];
    e["shape"] = {8};
    e["data_offsets"][1] = e["data_offsets"][0].get<int64_t>() + 8 * 4;
  });
  const std::string e = openError(qwen3);
  EXPECT_HAS(e, "tensor 'model.layers.1.self_attn.q_norm.weight'");
  EXPECT_HAS(e, "has shape [8] but config.json implies [16]");
}

TEST(FamilyConfigs, Llama3FrequenciesFollowTheThreeBands) {
  // D = 8, theta 500000: wavelengths 6.3, 167, 4.4e3 and 1.2e5 against original 512 with
  // low 1, high 4: kept (< 128), blended (128..512), divided by 8 (> 512) twice.
  const std::vector<float> plain = ropeInverseFrequencies(8, 500000.0f);
  const std::vector<float> scaled = ropeInverseFrequencies(8, 500000.0f, {8.0f, 1.0f, 4.0f, 512});
  EXPECT_EQ(scaled[0], plain[0]);
  const double s = (512.0 / (2 * M_PI / plain[1]) - 1) / 3;
  EXPECT_NEAR(scaled[1], plain[1] * ((1 - s) / 8 + s), 1e-7 * plain[1]);
  EXPECT_FLOAT_EQ(scaled[2], plain[2] / 8);
  EXPECT_FLOAT_EQ(scaled[3], plain[3] / 8);
}

}  // namespace
}  // namespace kvs
