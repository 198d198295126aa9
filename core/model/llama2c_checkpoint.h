#pragma once
// llama2.c checkpoints (float32, little-endian):
//   legacy: 7 x int32 header {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}
//           (negative vocab_size = unshared classifier), weights in run.c order, then the unused
//           freq_cis tables, then the classifier when unshared;
//   ak42 v1: 256-byte header {magic "ak42", version 1, the 7 ints, shared-classifier byte},
//           weights in export.py's version1 order, no freq_cis tables.
// The file size must equal what the header implies: truncated and oversized files are refused.

#include <memory>
#include <string>

#include "model/checkpoint_reader.h"
#include "model/llama_weights.h"
#include "model/model_config.h"

namespace kvs {

enum class Llama2cFormat { kLegacy, kAk42V1 };

struct Llama2cCheckpoint {
  ModelConfig config;
  StackedWeights weights;
  Llama2cFormat format = Llama2cFormat::kLegacy;
};

// Reads header and size only (cheap); throws KvsError naming the problem and the fix. Anything
// but a regular file is refused before it is opened (a FIFO would block); every header field is
// checked against model_limits under its own name; an ak42 header's flag byte must be 0 or 1 and
// its padding zero.
Llama2cCheckpoint readLlama2cHeader(const std::string& path);

// Maps the whole checkpoint: the weights are read-only views of the mapped file (no copy; the
// pages are read when used, and the mapping lives as long as any view). Never write into them:
// copy first (fuseWeights does).
Llama2cCheckpoint readLlama2cCheckpoint(const std::string& path);

// Writes weights in the given format; the file appears complete or not at all (temp + rename).
void writeLlama2cCheckpoint(const std::string& path, const ModelConfig& config,
                            const StackedWeights& weights, Llama2cFormat format);

// Bytes a checkpoint of this config takes in the given format.
int64_t llama2cFileSize(const ModelConfig& config, Llama2cFormat format);

const char* toString(Llama2cFormat format);

// A llama2.c checkpoint as a CheckpointReader: the header is checked and the file mapped when it
// is opened (readLlama2cCheckpoint), nothing read. Tensors go by run.c's names, each stacked over
// layers as the file stores it (float32):
//   token_embedding_table [V, C]   rms_att_weight [L, C]   wq [L, Hq*D, C]   wk, wv [L, Hkv*D, C]
//   wo [L, C, Hq*D]   rms_ffn_weight [L, C]   w1, w3 [L, F, C]   w2 [L, C, F]
//   rms_final_weight [C]   wcls [V, C] (only when the classifier is not shared)
class Llama2cReader : public CheckpointReader {
 public:
  explicit Llama2cReader(const std::string& path);

  std::string formatName() const override { return toString(ckpt_.format); }
  const std::string& path() const override { return path_; }
  const ModelConfig& config() const override { return ckpt_.config; }
  at::ScalarType storedDtype() const override { return at::kFloat; }
  int64_t weightBytes() const override { return ckpt_.config.parameterCount() * 4; }
  at::Tensor tensor(const std::string& name) const override;
  // Every tensor is copied into the fused layout (none stays a view of the file), so includeViews
  // adds nothing.
  int64_t loadBytes(at::ScalarType dtype, bool includeViews) const override;
  // Copies of the mapped weights (fuseWeights), in dtype; the file is unmapped when the reader
  // and any tensor() views are gone.
  LlamaWeights toLlamaWeights(at::ScalarType dtype,
                              const LayerProgress& progress = {}) const override;

 private:
  std::string path_;
  Llama2cCheckpoint ckpt_;  // weights: views of the mapped file
};

// The format table's entry (checkpoint_formats.cpp): any path that is not a folder, so that a
// file that is no checkpoint gets the llama2.c reader's message saying why.
bool recognisesLlama2cCheckpoint(const std::string& path);
std::unique_ptr<CheckpointReader> openLlama2cCheckpoint(const std::string& path);

}  // namespace kvs
