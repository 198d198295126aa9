#pragma once
// RunRecording: the recording of one GUI run. It wraps the Hdf5Recorder (the writer behind
// `kvstudio-cli generate --record`, so both write the same file), measures what writing costs the
// run, and ends in a RecordingReport. Lives on the SessionWorker's thread only: HDF5 is used from
// one thread.

#include "io/hdf5_recorder.h"

#include <QElapsedTimer>

#include <memory>
#include <string>
#include <vector>

#include "session_types.h"

namespace kvs::ui {

class RunRecording : public LayerObserver {
 public:
  // Creates the file and writes /meta; KvsError when it cannot (exists without overwrite; is the
  // model or tokenizer of `meta`, a FIFO, a folder or a link; folder missing, not writable, disk
  // full). The path then stays untouched: the file appears only once it opens as a recording.
  RunRecording(const RecordingOptions& options, const RecordingMeta& meta);
  ~RunRecording() override;

  void beginForward(int firstPos, int n) override;
  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override;
  bool wantsAttention() const override { return recorder_ && recorder_->wantsAttention(); }

  void appendToken(int id, const std::string& piece);
  // figures: a JSON object of scalars, as the CLI writes them.
  void addVariant(const CompressionParams& params, const std::vector<int>& generatedIds,
                  const SlotMap& slotMap, const std::string& figures);
  // finish: marks the file complete; otherwise it is closed as it is, marked incomplete (a stopped
  // or failed run). The recorder is gone afterwards.
  RecordingReport end(bool finish);

 private:
  template <typename F>
  void timed(F&& body);

  std::unique_ptr<Hdf5Recorder> recorder_;
  std::string path_;
  qint64 nanoseconds_ = 0;  // spent in the recorder
};

}  // namespace kvs::ui
