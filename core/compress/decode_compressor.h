#pragma once
// Keeps a compressed cache within its budget while decoding appends tokens (see
// CompressionParams::decodeCompression).

#include <memory>

#include "compress/compression_policy.h"

namespace kvs {

class KvCache;

class DecodeCompressor {
 public:
  // params: the variant's; call start() right after the prompt was compressed.
  explicit DecodeCompressor(const CompressionParams& params);
  void start(const KvCache& cache);
  // After a decode step: compresses the heads of every layer back to their post-prompt size once
  // any head has grown by the chunk. Returns whether it compressed.
  bool afterStep(KvCache& cache);

 private:
  bool compressed(int layer) const;

  CompressionParams params_;  // with the prompt's recent/protected counts frozen at start()
  int target_ = 0;  // slots per (layer, head) right after the prompt's compression (the largest)
};

}  // namespace kvs
