#pragma once
// Hdf5Recorder: a LayerObserver that writes the key/value states of a run to an HDF5 file
// (layout: core/io/hdf5_schema.md). The file appears at its path only once it is a valid
// recording marked incomplete (recording_skeleton.h). The prefill is written at once; decoded
// tokens are appended with their states and the file is flushed regularly, so a killed process
// leaves no file or a readable one that holds every flushed step and says it is incomplete.
//
// Recording never stops a generation: after the first HDF5 error (full disk, file removed) the
// recorder closes the file, keeps the message in error() and ignores further calls.
// Use from one thread only (HDF5 is not thread-safe here).

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "compress/compression_params.h"
#include "io/recording_options.h"
#include "model/layer_observer.h"

namespace H5 {
class H5File;
class DataSet;
class DataType;
}  // namespace H5

namespace kvs {

struct SlotMap;
class DiskReservation;

// One variant's outcome, as the recorder stores it.
struct RecordedVariant {
  std::string name;  // group name under /variants, e.g. "kvmerger_0.50"
  CompressionParams params;
  std::vector<int> generatedIds;
  const SlotMap* slotMap = nullptr;  // null = none recorded
  std::string figures;               // JSON object of scalars (bytes, ratios, metrics, times)
};

class Hdf5Recorder : public LayerObserver {
 public:
  // Creates the file and writes /meta; throws KvsError naming the problem and the fix (file
  // exists without overwrite; the model, the tokenizer, a FIFO, a folder or a link at the path;
  // folder missing or not writable; not enough space), leaving the path untouched.
  Hdf5Recorder(const RecordingOptions& options, const RecordingMeta& meta);
  ~Hdf5Recorder() override;
  Hdf5Recorder(const Hdf5Recorder&) = delete;
  Hdf5Recorder& operator=(const Hdf5Recorder&) = delete;

  void beginForward(int firstPos, int n) override;
  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override;
  // Only the prompt's attention is recorded, so decoding keeps its fast path.
  bool wantsAttention() const override { return options_.attention && ok() && !promptDone_; }

  // A token was sampled. Writes the staged decode states and tokens and flushes the file when
  // options.flushIntervalSeconds have passed since the last flush (0: every token).
  void appendToken(int id, const std::string& piece);
  void addVariant(const RecordedVariant& variant);
  // Writes what is pending, marks the file complete and closes it.
  void finish();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return options_.path; }
  // Positions whose states and ids the file holds as last flushed or closed: what a reader of the
  // file finds (its T), also after a stop for lack of space.
  int recordedTokens() const { return recordedTokens_; }

 private:
  struct StateSet;
  struct LayerSets;
  template <typename F>
  void guarded(const char* what, F&& body);
  int heldTokens() const;
  void writeAttention(int layer, const at::Tensor& tensor);
  void writeStaged();
  void abandonFile();
  void closeStopped();
  void closeFile();                 // flushes, closes every handle; throws H5::Exception on failure
  void ensureSpace(int64_t bytes);  // throws DiskFull (see the .cpp)
  const H5::DataType& memType() const;

  RecordingOptions options_;
  ModelConfig config_;
  std::unique_ptr<H5::H5File> file_;
  std::unique_ptr<DiskReservation> space_;
  int64_t spaceMargin_ = 0;
  std::vector<LayerSets> layers_;
  std::unique_ptr<H5::DataSet> tokenIds_, tokenPieces_;
  int positions_ = 0;        // positions whose forward pass has begun
  int recordedTokens_ = 0;   // positions the file holds as last flushed (heldTokens then)
  bool promptDone_ = false;  // the first token was sampled (attention is the prompt's only)
  // Decode states wait in LayerSets::stage; ids and pieces here; written together.
  int stageCapacity_ = 0, staged_ = 0, stageOffset_ = 0;
  bool direct_ = false;      // this forward pass is written straight to the file
  bool forwardDone_ = true;  // the last layer's states of this forward pass have arrived
  std::vector<int> stagedIds_;
  std::vector<std::string> stagedPieces_;
  std::chrono::steady_clock::time_point lastFlush_;
  std::string error_;
};

}  // namespace kvs
