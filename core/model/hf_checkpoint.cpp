#include "model/hf_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cache/mapped_storage.h"
#include "model/hf_config.h"
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

namespace {

// Tensor name -> shard file name, from model.safetensors.index.json. Each shard must be a plain
// file name in the folder: "../x" or "sub/x" would read outside it.
std::map<std::string, std::string> readIndex(const std::string& path) {
  const nlohmann::json j = readHfJsonFile(path, "safetensors index");
  const std::string fix = "; it needs a \"weight_map\" of tensor name -> shard file name";
  require(j.is_object() && j.contains("weight_map") && j.at("weight_map").is_object(),
          path + " is not a valid safetensors index: no \"weight_map\" object" + fix);
  std::map<std::string, std::string> map;
  for (const auto& [name, shard] : j.at("weight_map").items()) {
    require(shard.is_string(), path + " is not a valid safetensors index: tensor '" + name +
                                   "' maps to " + shard.dump() + ", not a file name" + fix);
    const std::string file = shard.get<std::string>();
    require(!file.empty() && file != "." && file != ".." && file.find('/') == std::string::npos,
            path + ": shard name '" + file + "' must be a file in the folder");
    map.emplace(name, file);
  }
  return map;
}

bool ignorable(const std::string& name) {
  // Older conversions saved RoPE's inverse frequencies; the model computes its own.
  return name.size() > 24 && name.compare(name.size() - 24, 24, ".rotary_emb.inv_freq") == 0;
}

// A file of a Hugging Face folder that names the folder (a file picker hands over a file).
bool isFileOfHfFolder(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) &&
         (p.filename() == "config.json" || p.extension() == ".safetensors" ||
          p.filename() == "model.safetensors.index.json") &&
         isHfFolder(p.parent_path().string());
}

}  // namespace

bool isHfFolder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "config.json", ec);
}

bool recognisesHfCheckpoint(const std::string& path) {
  return isHfFolder(path) || isFileOfHfFolder(path);
}

std::unique_ptr<CheckpointReader> openHfCheckpoint(const std::string& path) {
  const fs::path p(path);
  const std::string folder = isFileOfHfFolder(p) ? p.parent_path().string() : path;
  return std::make_unique<HfCheckpoint>(HfCheckpoint::open(folder));
}

std::string HfCheckpoint::formatName() const {
  return "Hugging Face safetensors (" + std::to_string(shardCount()) +
         (shardCount() == 1 ? " file)" : " shards)");
}

HfCheckpoint HfCheckpoint::open(const std::string& folder) {
  HfCheckpoint ck;
  ck.folder_ = folder;
  std::error_code ec;
  require(fs::is_directory(folder, ec), "model folder not found: " + folder);
  ck.config_ = readHfConfig((fs::path(folder) / "config.json").string());

  const fs::path index = fs::path(folder) / "model.safetensors.index.json";
  const fs::path single = fs::path(folder) / "model.safetensors";
  std::map<std::string, std::string> weightMap;  // empty for a single file
  std::vector<std::string> shardNames;
  if (fs::exists(index, ec)) {
    weightMap = readIndex(index.string());
    std::set<std::string> unique;
    for (const auto& [name, shard] : weightMap) {
      if (unique.insert(shard).second) shardNames.push_back(shard);
    }
  } else {
    require(fs::exists(single, ec), "no weights in " + folder +
                                        ": expected model.safetensors or "
                                        "model.safetensors.index.json with its shards "
                                        "(.bin/.pth PyTorch files are not supported)");
    shardNames.push_back("model.safetensors");
  }
  for (const auto& shard : shardNames) {
    const fs::path p = fs::path(folder) / shard;
    require(fs::exists(p, ec), "shard " + p.string() + " listed in " + index.string() +
                                   " is missing; download it again");
    ck.files_.push_back(SafetensorsFile::open(p.string(), /*checkLayoutNow=*/false));
    const int i = static_cast<int>(ck.files_.size()) - 1;
    for (const auto& [name, e] : ck.files_.back().entries()) {
      const auto seen = ck.fileOf_.find(name);
      require(seen == ck.fileOf_.end(),
              "tensor '" + name + "' is in both " +
                  (seen == ck.fileOf_.end() ? std::string() : ck.files_[seen->second].path()) +
                  " and " + p.string());
      if (!weightMap.empty()) {
        const auto listed = weightMap.find(name);
        require(listed != weightMap.end() && listed->second == shard,
                "tensor '" + name + "' is in " + p.string() + " but " + index.string() +
                    " does not list it there");
      }
      ck.fileOf_[name] = i;
    }
  }
  for (const auto& [name, shard] : weightMap) {
    require(ck.fileOf_.count(name),
            "tensor '" + name + "' is listed in " + index.string() + " but missing from " + shard);
  }

  // Exactly the expected tensors, with the shapes config.json implies.
  std::set<std::string> expected;
  for (const HfTensorSpec& spec : hfTensorSpecs(ck.config_)) {
    expected.insert(spec.name);
    const auto it = ck.fileOf_.find(spec.name);
    require(it != ck.fileOf_.end(), "Hugging Face checkpoint " + folder + ": tensor '" + spec.name +
                                        "' is missing (incomplete download?)");
    const SafetensorsEntry& e = ck.files_[it->second].entry(spec.name);
    if (e.shape != spec.shape) {
      std::ostringstream msg;
      msg << "tensor '" << spec.name << "' in " << ck.files_[it->second].path() << " has shape "
          << at::IntArrayRef(e.shape) << " but config.json implies " << at::IntArrayRef(spec.shape);
      throw KvsError(msg.str());
    }
    ck.weightBytes_ += e.end - e.begin;
  }
  for (const auto& [name, i] : ck.fileOf_) {
    // A tied checkpoint may still carry lm_head (a copy of the embedding); it is not used.
    const bool tiedHead = name == "lm_head.weight" && ck.config_.sharedClassifier;
    require(expected.count(name) || ignorable(name) || tiedHead,
            "unexpected tensor '" + name + "' in " + ck.files_[i].path() + ": not part of a " +
                std::string(architectureName(ck.config_.family)) + " with this config.json");
  }
  // Only now the byte layout of each shard: a missing tensor leaves a gap, and its name is the
  // better message; with every tensor present, a gap or overlap means shifted offsets.
  for (const SafetensorsFile& file : ck.files_) file.checkLayout();
  ck.storedDtype_ = ck.files_[ck.fileOf_.at("model.embed_tokens.weight")]
                        .entry("model.embed_tokens.weight")
                        .dtype;
  return ck;
}

int64_t HfCheckpoint::loadBytes(at::ScalarType dtype, bool includeViews) const {
  const int64_t elementBytes = static_cast<int64_t>(c10::elementSize(dtype));
  int64_t total = 0;
  for (const HfTensorSpec& spec : hfTensorSpecs(config_)) {
    const SafetensorsEntry& e = files_[fileOf_.at(spec.name)].entry(spec.name);
    // As toLlamaWeights does: q/k/v (weights and biases) and gate/up are concatenated, other
    // tensors are copied only when converted.
    const bool fused = spec.name.find("_proj.") != std::string::npos &&
                       spec.name.find("o_proj") == std::string::npos &&
                       spec.name.find("down_proj") == std::string::npos;
    int64_t elements = 1;
    for (int64_t d : spec.shape) elements *= d;
    if (fused || e.dtype != dtype) {
      total += elements * elementBytes;
    } else if (includeViews) {
      total += e.end - e.begin;
    }
  }
  return total;
}

at::Tensor HfCheckpoint::tensor(const std::string& name) const {
  const auto it = fileOf_.find(name);
  require(it != fileOf_.end(), "tensor '" + name + "' is not in " + folder_);
  return files_[it->second].tensor(name);
}

void HfCheckpoint::release(const std::string& name) const {
  files_[fileOf_.at(name)].release(name);
}

LlamaWeights HfCheckpoint::toLlamaWeights(at::ScalarType dtype,
                                          const LayerProgress& progress) const {
  // A view when already in dtype; otherwise a converted copy, the mapped original released.
  auto take = [&](const std::string& name) {
    at::Tensor t = tensor(name);
    if (t.scalar_type() == dtype) return t;
    at::Tensor copy = copyForWeights(t, dtype);  // huge pages when large
    release(name);
    return copy;
  };
  // Fusing always copies: concatenate, convert, release the parts.
  auto fuse = [&](const std::vector<std::string>& names) {
    std::vector<at::Tensor> parts;
    for (const auto& n : names) parts.push_back(tensor(n));
    at::Tensor fused = concatForWeights(parts, dtype);  // huge pages when large
    for (const auto& n : names) release(n);
    return fused;
  };
  LlamaWeights w;
  w.embedding = take("model.embed_tokens.weight");
  for (int l = 0; l < config_.nLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights layer;
    layer.attnNorm = take(p + "input_layernorm.weight");
    layer.wqkv = fuse({p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                       p + "self_attn.v_proj.weight"});
    layer.wo = take(p + "self_attn.o_proj.weight");
    layer.ffnNorm = take(p + "post_attention_layernorm.weight");
    layer.w13 = fuse({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"});
    layer.w2 = take(p + "mlp.down_proj.weight");
    if (config_.qkvBias) {
      layer.bqkv = fuse(
          {p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias"});
    }
    if (config_.qkNorm) {
      layer.qNorm = take(p + "self_attn.q_norm.weight");
      layer.kNorm = take(p + "self_attn.k_norm.weight");
    }
    w.layers.push_back(std::move(layer));
    reportLayer(progress, l + 1, config_.nLayers);
  }
  w.finalNorm = take("model.norm.weight");
  w.classifier = config_.sharedClassifier ? w.embedding : take("lm_head.weight");
  return w;
}

}  // namespace kvs
