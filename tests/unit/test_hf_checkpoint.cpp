// Hugging Face folders: export and load round trips (single file, shards, dtypes), the same logits
// as the checkpoint layout, and a clear error naming the tensor or file for every bad input.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cache/kv_cache.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/hf_export.h"
#include "model/model_loader.h"
#include "model/rope.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

ModelConfig tinyConfig(bool shared = false) {
  return test::tinyModelConfig(shared);
}

using test::errorOf;

std::string openError(const std::string& folder) {
  return errorOf([&] { HfCheckpoint::open(folder); });
}

// An exported tiny model in folder "hf" of dir.
std::string exportTiny(const TempDir& dir, HfExportOptions options = {}, bool shared = false) {
  const ModelConfig c = tinyConfig(shared);
  const std::string folder = dir.file("hf");
  writeHfCheckpoint(folder, c, randomWeights(c, 3), options);
  return folder;
}

// A safetensors file from a raw JSON header and data bytes.
void writeRaw(const std::string& path, const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  test::writeFile(path, bytes + header + data);
}

// Rewrites model.safetensors of folder with the given header edit (same data).
void editHeader(const std::string& folder, const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = folder + "/model.safetensors";
  const std::string bytes = test::readFile(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  edit(header);
  writeRaw(path, header.dump(), bytes.substr(8 + n));
}

at::Tensor logitsOf(const LlamaModel& model, const std::vector<int>& tokens) {
  KvCache cache = model.makeCache();
  return model.forward(tokens, cache, LogitsMode::kAll);
}

TEST(HfCheckpoint, ExportedTensorsArePermutedAsHuggingFaceDoes) {
  TempDir dir;
  const ModelConfig c = tinyConfig();
  const StackedWeights w = randomWeights(c, 3);
  writeHfCheckpoint(dir.file("hf"), c, w, {});
  const HfCheckpoint ck = HfCheckpoint::open(dir.file("hf"));
  EXPECT_EQ(ck.config().ropeStyle, RopeStyle::kHalfSplit);
  EXPECT_EQ(ck.config().nKvHeads, 2);
  EXPECT_EQ(ck.shardCount(), 1);
  EXPECT_EQ(ck.weightBytes(), c.parameterCount() * 4);
  EXPECT_TRUE(at::equal(ck.tensor("model.layers.1.self_attn.q_proj.weight"),
                        permuteForHalfSplit(w.wq[1], c.nHeads)));
  EXPECT_TRUE(at::equal(
      permuteForAdjacentPairs(ck.tensor("model.layers.0.self_attn.k_proj.weight"), c.nKvHeads),
      w.wk[0]));
  EXPECT_TRUE(at::equal(ck.tensor("model.layers.1.mlp.down_proj.weight"), w.w2[1]));
  EXPECT_TRUE(at::equal(ck.tensor("lm_head.weight"), w.classifier));
}

TEST(HfCheckpoint, SameLogitsAsTheCheckpointLayoutSingleAndSharded) {
  for (bool shared : {false, true}) {
    for (int64_t shard : {int64_t{0}, int64_t{3000}}) {
      SCOPED_TRACE((shared ? "tied, shard " : "untied, shard ") + std::to_string(shard));
      TempDir dir;
      const ModelConfig c = tinyConfig(shared);
      const StackedWeights w = randomWeights(c, 5);
      HfExportOptions options;
      options.maxShardBytes = shard;
      writeHfCheckpoint(dir.file("hf"), c, w, options);
      if (shard > 0) {
        EXPECT_TRUE(fs::exists(dir.file("hf/model.safetensors.index.json")));
        EXPECT_GT(HfCheckpoint::open(dir.file("hf")).shardCount(), 3);
      }
      const LlamaModel reference(c, fuseWeights(c, w));
      const auto loaded = loadModel(dir.file("hf"), LoadOptions{});
      const std::vector<int> tokens = {1, 5, 9, 30, 2, 17, 8};
      EXPECT_LT((logitsOf(reference, tokens) - logitsOf(*loaded, tokens)).abs().max().item<float>(),
                1e-5);
    }
  }
}

TEST(HfCheckpoint, HalfPrecisionExportsStoreTheRoundedWeights) {
  for (auto dtype : {at::kBFloat16, at::kHalf}) {
    TempDir dir;
    const ModelConfig c = tinyConfig();
    const StackedWeights w = randomWeights(c, 3);
    HfExportOptions options;
    options.dtype = dtype;
    writeHfCheckpoint(dir.file("hf"), c, w, options);
    const HfCheckpoint ck = HfCheckpoint::open(dir.file("hf"));
    EXPECT_EQ(ck.storedDtype(), dtype);
    EXPECT_EQ(ck.weightBytes(), c.parameterCount() * 2);
    EXPECT_TRUE(at::equal(ck.tensor("model.layers.0.mlp.up_proj.weight"), w.w3[0].to(dtype)));
    const auto cfg = nlohmann::json::parse(test::readFile(dir.file("hf/config.json")));
    EXPECT_EQ(cfg.at("torch_dtype"), hfDtypeName(dtype));
    // Loading converts to the dtype asked for.
    const LlamaWeights f32 = ck.toLlamaWeights(at::kFloat);
    EXPECT_EQ(f32.layers[1].w13.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::equal(f32.layers[0].w2, w.w2[0].to(dtype).to(at::kFloat)));
  }
}

TEST(HfCheckpoint, FormatIsDetectedFromThePath) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  EXPECT_EQ(describeModel(folder).format, "Hugging Face");
  EXPECT_EQ(describeModel(folder + "/config.json").path, folder);
  EXPECT_EQ(describeModel(folder + "/model.safetensors").config.dim, 16);
  fs::create_directories(dir.file("empty"));
  EXPECT_NE(errorOf([&] { describeModel(dir.file("empty")); }).find("has no config.json"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { describeModel(dir.file("nothing")); }).find("model not found"),
            std::string::npos);
}

TEST(HfCheckpoint, ExportIsAtomicAndRefusesToOverwrite) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  EXPECT_NE(errorOf([&] { exportTiny(dir); }).find("already exists"), std::string::npos);
  // A failing source leaves nothing behind.
  const ModelConfig c = tinyConfig();
  auto failing = [](const std::string& name, const std::vector<int64_t>&) -> at::Tensor {
    if (name == "model.norm.weight") throw KvsError("source failed");
    return at::zeros({1});
  };
  EXPECT_NE(errorOf([&] { writeHfCheckpoint(dir.file("bad"), c, failing, {}); }), "(no error)");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.file(""))) entries += e.path() != folder;
  EXPECT_EQ(entries, 0);
}

TEST(HfCheckpoint, CorruptJsonHeaderIsNamed) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  std::string bytes = test::readFile(folder + "/model.safetensors");
  bytes[9] = '#';
  test::writeFile(folder + "/model.safetensors", bytes);
  const std::string e = openError(folder);
  EXPECT_NE(e.find("corrupt safetensors file " + folder + "/model.safetensors"), std::string::npos)
      << e;
  EXPECT_NE(e.find("JSON header does not parse"), std::string::npos) << e;
}

TEST(HfCheckpoint, HeaderLengthBeyondTheFileIsRefused) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  writeRaw(folder + "/model.safetensors", "", "");
  std::string bytes = test::readFile(folder + "/model.safetensors");
  bytes[0] = 100;
  test::writeFile(folder + "/model.safetensors", bytes);
  EXPECT_NE(openError(folder).find("header length field says 100"), std::string::npos);
}

TEST(HfCheckpoint, TruncatedShardNamesTheTensorAndFile) {
  TempDir dir;
  HfExportOptions options;
  options.maxShardBytes = 3000;
  const std::string folder = exportTiny(dir, options);
  const std::string shard =
      folder + "/model-00002-of-" +
      nlohmann::json::parse(test::readFile(folder + "/model.safetensors.index.json"))
          .at("weight_map")
          .at("model.norm.weight")
          .get<std::string>()
          .substr(15);
  fs::resize_file(shard, fs::file_size(shard) - 10);
  const std::string e = openError(folder);
  EXPECT_NE(e.find("truncated safetensors file: tensor '"), std::string::npos) << e;
  EXPECT_NE(e.find(shard), std::string::npos) << e;
}

TEST(HfCheckpoint, UnsupportedDtypeIsNamed) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  editHeader(folder, [](nlohmann::json& h) {
    h["model.norm.weight"]["dtype"] = "I32";  // same size as F32
  });
  const std::string e = openError(folder);
  EXPECT_NE(e.find("tensor 'model.norm.weight'"), std::string::npos) << e;
  EXPECT_NE(e.find("has dtype I32, which is not supported"), std::string::npos) << e;
}

TEST(HfCheckpoint, MissingExtraAndMisshapenTensorsAreNamed) {
  {
    TempDir dir;
    const std::string folder = exportTiny(dir);
    editHeader(folder, [](nlohmann::json& h) { h.erase("model.layers.1.mlp.up_proj.weight"); });
    EXPECT_NE(openError(folder).find("tensor 'model.layers.1.mlp.up_proj.weight' is missing"),
              std::string::npos)
        << openError(folder);
  }
  {
    TempDir dir;
    const std::string folder = exportTiny(dir);
    editHeader(folder, [](nlohmann::json& h) {
      h["model.layers.7.self_attn.bias"] = {
          {"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {0, 0}}};
    });
    EXPECT_NE(openError(folder).find("tensor 'model.layers.7.self_attn.bias'"), std::string::npos)
        << openError(folder);
  }
  {
    TempDir dir;
    const std::string folder = exportTiny(dir);
    editHeader(folder, [](nlohmann::json& h) {
      h["model.layers.0.self_attn.v_proj.weight"]["shape"] = {16, 8};  // same bytes, transposed
    });
    const std::string e = openError(folder);
    EXPECT_NE(e.find("tensor 'model.layers.0.self_attn.v_proj.weight'"), std::string::npos) << e;
    EXPECT_NE(e.find("has shape [16, 8] but config.json implies [8, 16]"), std::string::npos) << e;
  }
  {
    TempDir dir;
    const std::string folder = exportTiny(dir);
    editHeader(folder, [](nlohmann::json& h) { h["model.norm.weight"]["shape"] = {17}; });
    EXPECT_NE(openError(folder).find("data_offsets span"), std::string::npos) << openError(folder);
  }
}

TEST(HfCheckpoint, MissingShardIsNamed) {
  TempDir dir;
  HfExportOptions options;
  options.maxShardBytes = 3000;
  const std::string folder = exportTiny(dir, options);
  fs::remove(folder + "/model-00001-of-" +
             nlohmann::json::parse(test::readFile(folder + "/model.safetensors.index.json"))
                 .at("weight_map")
                 .at("model.norm.weight")
                 .get<std::string>()
                 .substr(15));
  EXPECT_NE(openError(folder).find("is missing; download it again"), std::string::npos)
      << openError(folder);
}

TEST(HfCheckpoint, ConfigErrorsAreNamed) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  auto cfg = nlohmann::json::parse(test::readFile(folder + "/config.json"));
  auto withConfig = [&](const nlohmann::json& j) {
    test::writeFile(folder + "/config.json", j.dump());
    return openError(folder);
  };
  nlohmann::json mixtral = cfg;
  mixtral["architectures"] = {"MixtralForCausalLM"};
  EXPECT_NE(withConfig(mixtral).find(
                "architecture \"MixtralForCausalLM\" is not supported; only LlamaForCausalLM"),
            std::string::npos);
  nlohmann::json noHidden = cfg;
  noHidden.erase("hidden_size");
  EXPECT_NE(withConfig(noHidden).find("has no \"hidden_size\""), std::string::npos);
  nlohmann::json scaled = cfg;
  scaled["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  EXPECT_NE(withConfig(scaled).find("rope_scaling"), std::string::npos);
  test::writeFile(folder + "/config.json", "{ not json");
  EXPECT_NE(openError(folder).find("is not valid JSON"), std::string::npos);
}

TEST(HfCheckpoint, UnfusedWeightsInTheStoredDtypeAreViewsOfTheMapping) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  const HfCheckpoint ck = HfCheckpoint::open(folder);
  const LlamaWeights same = ck.toLlamaWeights(at::kFloat);  // stored dtype: no copies
  EXPECT_EQ(same.layers[1].wo.data_ptr(),
            ck.tensor("model.layers.1.self_attn.o_proj.weight").data_ptr());
  EXPECT_EQ(same.layers[0].w2.data_ptr(),
            ck.tensor("model.layers.0.mlp.down_proj.weight").data_ptr());
  EXPECT_EQ(same.embedding.data_ptr(), ck.tensor("model.embed_tokens.weight").data_ptr());
  // Fused matrices are copies, equal to the parts; the views outlive the checkpoint object.
  EXPECT_TRUE(at::equal(same.layers[0].wqkv.narrow(0, 0, 16),
                        ck.tensor("model.layers.0.self_attn.q_proj.weight")));
  const LlamaWeights converted = HfCheckpoint::open(folder).toLlamaWeights(at::kBFloat16);
  EXPECT_EQ(converted.layers[1].wo.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(converted.layers[1].wo, same.layers[1].wo.to(at::kBFloat16)));
}

TEST(HfCheckpoint, TiedCheckpointMayCarryAnUnusedLmHead) {
  TempDir dir;
  const std::string folder = exportTiny(dir, {}, /*shared=*/true);
  // Some conversions save the tied head anyway; an empty stand-in, since only its name matters.
  editHeader(folder, [](nlohmann::json& h) {
    h["lm_head.weight"] = {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {0, 0}}};
  });
  EXPECT_EQ(openError(folder), "(no error)");
}

}  // namespace
}  // namespace kvs
