#pragma once
// RecordingReader: reads a KV Studio recording (core/io/hdf5_schema.md) without the model, for
// `kvstudio-cli analyze` and the GUI. Foreign, corrupt and truncated files are refused with a
// KvsError that says what is wrong. Use from one thread only.

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "cache/slot_map.h"

namespace H5 {
class H5File;
}

namespace kvs {

enum class StateSource { kKeys, kKeysPrerope, kValues };
const char* toString(StateSource source);               // "keys", "keys-prerope", "values"
StateSource parseStateSource(const std::string& text);  // also accepts the dataset names

struct RecordingInfo {
  int formatVersion = 0;
  bool complete = false;  // false: the recording was interrupted
  std::string appVersion, createdUtc;
  std::string modelConfigJson, checkpointPath, checkpointSha256, tokenizerPath;
  std::string prompt, command, settingsJson, stateDtype;
  int64_t seed = 0;
  int promptTokens = 0;
  std::vector<int> tokenIds;             // prompt + sampled tokens
  std::vector<std::string> tokenPieces;  // one per id
  int layers = 0, kvHeads = 0, headDim = 0;
  int tokens = 0;                    // T: positions whose states are on disk (<= tokenIds.size())
  std::vector<StateSource> sources;  // recorded state kinds
  bool hasAttention = false;         // prompt attention [Hq, P, P]
  std::vector<std::string> variantNames;  // groups under /variants
};

struct VariantRecord {
  std::string name, method, paramsJson, figuresJson;
  std::vector<int> generatedIds;
  SlotMap slotMap;  // empty when none was recorded
};

class RecordingReader {
 public:
  explicit RecordingReader(const std::string& path);  // throws KvsError
  ~RecordingReader();
  RecordingReader(RecordingReader&&) noexcept;

  const std::string& path() const { return path_; }
  const RecordingInfo& info() const { return info_; }
  bool has(StateSource source) const;

  // float32 [Hkv, T, D] of one layer (T = info().tokens).
  at::Tensor states(StateSource source, int layer) const;
  // float32 [T, D] of one KV head.
  at::Tensor states(StateSource source, int layer, int head) const;
  // float32 [Hq, P, P]: the prompt's attention probabilities.
  at::Tensor attention(int layer) const;
  VariantRecord variant(const std::string& name) const;

 private:
  void checkLayer(int layer) const;
  std::string datasetPath(StateSource source, int layer) const;

  std::string path_;
  std::unique_ptr<H5::H5File> file_;
  RecordingInfo info_;
};

}  // namespace kvs
