#pragma once
// RecordingReader: reads a KV Studio recording (core/io/hdf5_schema.md) without the model, for
// `kvstudio-cli analyze` and the GUI. Foreign and corrupt files are refused with a KvsError that
// says what is wrong: every size is checked against /meta model_config and against what the file
// really holds before anything is allocated (recording_layout.h), and every value read is checked
// to be finite. A file cut short (full disk, killed process) is read as far as it goes, and
// RecordingInfo::missing says what it lacks. A crash inside libhdf5 on a corrupt file cannot be
// prevented here: callers that open files from users run checkRecording (recording_check.h)
// first. Use from one thread only.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cache/slot_map.h"

namespace H5 {
class H5File;
class Group;
}  // namespace H5

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
  std::vector<int> tokenIds;             // prompt + sampled tokens (fewer than T in a cut file)
  std::vector<std::string> tokenPieces;  // one per id; "?" where the file lacks the piece
  int layers = 0, queryHeads = 0, kvHeads = 0, headDim = 0;  // L, Hq, Hkv, D
  // T: positions whose states the file holds in every layer and recorded source (counted from
  // the datasets' stored chunks, not from token_ids, which a cut file may lack).
  int tokens = 0;
  std::vector<StateSource> sources;       // recorded state kinds, each held in every layer
  bool hasAttention = false;              // prompt attention [Hq, P, P], held in every layer
  std::vector<std::string> variantNames;  // groups under /variants
  // What a cut or damaged file lacks, one phrase each ("the attention of layers 4-5"); the
  // accessors work without it. Empty for a whole file.
  std::vector<std::string> missing;
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

  // Reads every dataset the accessors above return and checks its values, without making
  // tensors (so it is safe in a fork()ed child: recording_check.h). KvsError on the first problem.
  void readEverything() const;

 private:
  unsigned long long readTokens(const H5::Group& meta);  // hsize_t
  void readLayers(const H5::H5File& file);
  void checkLayer(int layer) const;
  std::string datasetPath(StateSource source, int layer) const;
  // [Hkv or 1, T, D] values of one layer (head -1: every head), checked to be finite.
  std::vector<float> stateValues(StateSource source, int layer, int head) const;
  std::vector<float> attentionValues(int layer) const;  // [Hq, P, P], checked to be finite

  std::string path_;
  std::unique_ptr<H5::H5File> file_;
  uint64_t fileSize_ = 0;  // bytes, as the file system reports it
  RecordingInfo info_;
};

}  // namespace kvs
