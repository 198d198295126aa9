#include "model/hf_export.h"

#include <ATen/ATen.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/hf_config.h"
#include "model/rope.h"
#include "model/safetensors_file.h"
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

namespace {

int64_t bytesOf(const HfTensorSpec& spec, at::ScalarType dtype) {
  int64_t n = static_cast<int64_t>(c10::elementSize(dtype));
  for (int64_t d : spec.shape) n *= d;
  return n;
}

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  require(out.good(), "error writing " + path.string() + " (disk full?)");
}

// One shard: header (padded with spaces to a multiple of 8, as the reference writer does, so
// every tensor starts aligned), then each tensor as the source produces it.
void writeShard(const fs::path& path, const std::vector<const HfTensorSpec*>& specs,
                const HfTensorSource& source, at::ScalarType dtype) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  int64_t offset = 0;
  for (const HfTensorSpec* s : specs) {
    const int64_t n = bytesOf(*s, dtype);
    header[s->name] = {{"dtype", safetensorsDtypeName(dtype)},
                       {"shape", s->shape},
                       {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  require(out.good(), "cannot write " + path.string() + ": " + std::strerror(errno));
  const uint64_t len = text.size();
  unsigned char lenBytes[8];
  for (int i = 0; i < 8; ++i) lenBytes[i] = static_cast<unsigned char>(len >> (8 * i));
  out.write(reinterpret_cast<const char*>(lenBytes), 8);
  out.write(text.data(), text.size());
  for (const HfTensorSpec* s : specs) {
    const at::Tensor t = source(s->name, s->shape).to(at::kCPU, dtype).contiguous();
    require(t.sizes() == at::IntArrayRef(s->shape),
            "export: the source gave tensor '" + s->name + "' a wrong shape");
    out.write(static_cast<const char*>(t.data_ptr()), t.nbytes());
  }
  out.close();
  require(out.good(), "error writing " + path.string() + " (disk full?)");
}

}  // namespace

void writeHfCheckpoint(const std::string& folder, const ModelConfig& config,
                       const HfTensorSource& source, const HfExportOptions& options) {
  config.validate();
  safetensorsDtypeName(options.dtype);  // KvsError for an unsupported dtype
  std::error_code ec;
  const fs::path target(folder);
  require(!fs::exists(target, ec),
          "cannot export to " + folder + ": it already exists; remove it or choose another");
  // A sibling, so the final rename stays within one file system.
  const fs::path tmp = target.string() + ".part-" + std::to_string(getpid());
  fs::remove_all(tmp, ec);
  require(fs::create_directories(tmp, ec), "cannot create " + tmp.string() + ": " + ec.message() +
                                               " (check that the parent folder is writable)");
  struct PartialFolder {  // removed on any failure: no half-written checkpoint is left behind
    fs::path path;
    bool done = false;
    ~PartialFolder() {
      std::error_code e;
      if (!done) fs::remove_all(path, e);
    }
  } partial{tmp};

  // Shards in file order, each filled up to maxShardBytes.
  const std::vector<HfTensorSpec> specs = hfTensorSpecs(config);
  std::vector<std::vector<const HfTensorSpec*>> shards(1);
  int64_t inShard = 0, total = 0;
  for (const HfTensorSpec& s : specs) {
    const int64_t n = bytesOf(s, options.dtype);
    if (options.maxShardBytes > 0 && inShard > 0 && inShard + n > options.maxShardBytes) {
      shards.emplace_back();
      inShard = 0;
    }
    shards.back().push_back(&s);
    inShard += n;
    total += n;
  }
  if (options.maxShardBytes <= 0) {
    writeShard(tmp / "model.safetensors", shards[0], source, options.dtype);
  } else {
    nlohmann::json weightMap = nlohmann::json::object();
    const int count = static_cast<int>(shards.size());
    for (int i = 0; i < count; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", i + 1, count);
      writeShard(tmp / name, shards[i], source, options.dtype);
      for (const HfTensorSpec* s : shards[i]) weightMap[s->name] = name;
    }
    const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
    writeText(tmp / "model.safetensors.index.json", index.dump(2) + "\n");
  }
  writeText(tmp / "config.json", hfConfigJson(config, options.dtype).dump(2) + "\n");
  if (!options.tokenizerPath.empty()) {
    const fs::path from(options.tokenizerPath);
    const bool bpe = from.extension() == ".json";
    fs::copy_file(from, tmp / (bpe ? "tokenizer.json" : "tokenizer.model"), ec);
    require(!ec, "cannot copy tokenizer " + options.tokenizerPath + ": " + ec.message());
    // A byte-level BPE's BOS, EOS and special tokens are in its tokenizer_config.json.
    const fs::path config = from.parent_path() / "tokenizer_config.json";
    if (bpe && fs::exists(config)) {
      fs::copy_file(config, tmp / "tokenizer_config.json", ec);
      require(!ec, "cannot copy " + config.string() + ": " + ec.message());
    }
  }
  fs::rename(tmp, target, ec);
  require(!ec, "cannot move the finished folder to " + folder + ": " + ec.message());
  partial.done = true;
}

void writeHfCheckpoint(const std::string& folder, const ModelConfig& config,
                       const StackedWeights& w, const HfExportOptions& options) {
  const bool permute = config.ropeStyle == RopeStyle::kAdjacentPairs;
  auto source = [&](const std::string& name, const std::vector<int64_t>&) -> at::Tensor {
    if (name == "model.embed_tokens.weight") return w.embedding;
    if (name == "model.norm.weight") return w.finalNorm;
    if (name == "lm_head.weight") return w.classifier;
    // "model.layers.<l>.<rest>"
    const size_t dot = name.find('.', 13);
    const int l = std::stoi(name.substr(13, dot - 13));
    const std::string rest = name.substr(dot + 1);
    if (rest == "input_layernorm.weight") return w.attnNorm[l];
    if (rest == "post_attention_layernorm.weight") return w.ffnNorm[l];
    if (rest == "self_attn.q_proj.weight")
      return permute ? permuteForHalfSplit(w.wq[l], config.nHeads) : w.wq[l];
    if (rest == "self_attn.k_proj.weight")
      return permute ? permuteForHalfSplit(w.wk[l], config.nKvHeads) : w.wk[l];
    if (rest == "self_attn.v_proj.weight") return w.wv[l];
    if (rest == "self_attn.o_proj.weight") return w.wo[l];
    if (rest == "mlp.gate_proj.weight") return w.w1[l];
    if (rest == "mlp.up_proj.weight") return w.w3[l];
    if (rest == "mlp.down_proj.weight") return w.w2[l];
    // Biases and q/k norms follow their rows' RoPE layout too: one row each, or one head of D.
    auto permuted = [&](const at::Tensor& t, int heads) {
      return permute ? permuteForHalfSplit(t.unsqueeze(1), heads).squeeze(1) : t;
    };
    if (rest == "self_attn.q_proj.bias") return permuted(w.bq[l], config.nHeads);
    if (rest == "self_attn.k_proj.bias") return permuted(w.bk[l], config.nKvHeads);
    if (rest == "self_attn.v_proj.bias") return w.bv[l];
    if (rest == "self_attn.q_norm.weight") return permuted(w.qNorm[l], 1);
    if (rest == "self_attn.k_norm.weight") return permuted(w.kNorm[l], 1);
    throw KvsError("export: no weights for tensor '" + name + "'");
  };
  ModelConfig hf = config;
  hf.ropeStyle = RopeStyle::kHalfSplit;
  writeHfCheckpoint(folder, hf, source, options);
}

}  // namespace kvs
