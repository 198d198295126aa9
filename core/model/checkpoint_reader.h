#pragma once
// One interface for every checkpoint format (llama2.c .bin, Hugging Face safetensors folder).
// A reader is opened cheaply: headers and config are read and checked, weight files at most
// mapped, no weight read; the loader asks it how much memory a load needs before any is read.
// The format table that picks the reader for a path is in checkpoint_formats.h.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "model/llama_weights.h"
#include "model/model_config.h"

namespace kvs {

class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;

  // What the user is shown, e.g. "llama2.c legacy (v0)", "Hugging Face safetensors (2 shards)".
  virtual std::string formatName() const = 0;
  // The file or folder read: a Hugging Face folder, not the config.json it was opened by.
  virtual const std::string& path() const = 0;
  virtual const ModelConfig& config() const = 0;
  // The dtype the weights are stored in.
  virtual at::ScalarType storedDtype() const = 0;
  // Bytes the weights take as stored.
  virtual int64_t weightBytes() const = 0;

  // A read-only view of one stored tensor by the format's own name (never write into it: it may
  // be a mapped file); KvsError naming the tensor and the path when there is none.
  virtual at::Tensor tensor(const std::string& name) const = 0;

  // Bytes of memory toLlamaWeights(dtype) makes the process hold: the copies it makes plus, when
  // includeViews, the tensors it keeps as views of a mapped file (resident once a model on the
  // CPU uses them).
  virtual int64_t loadBytes(at::ScalarType dtype, bool includeViews) const = 0;

  // The model's fused layout in dtype. progress: after each layer (false stops the load).
  virtual LlamaWeights toLlamaWeights(at::ScalarType dtype,
                                      const LayerProgress& progress = {}) const = 0;

 protected:
  // Readers are handed around by unique_ptr; copies only by a concrete type (HfCheckpoint::open).
  CheckpointReader() = default;
  CheckpointReader(const CheckpointReader&) = default;
  CheckpointReader& operator=(const CheckpointReader&) = default;
};

}  // namespace kvs
