#pragma once
// llama2.c checkpoints (float32, little-endian):
//   legacy: 7 x int32 header {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}
//           (negative vocab_size = unshared classifier), weights in run.c order, then the unused
//           freq_cis tables, then the classifier when unshared;
//   ak42 v1: 256-byte header {magic "ak42", version 1, the 7 ints, shared-classifier byte},
//           weights in export.py's version1 order, no freq_cis tables.
// The file size must equal what the header implies: truncated and oversized files are refused.

#include <string>

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

}  // namespace kvs
