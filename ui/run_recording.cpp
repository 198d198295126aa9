#include "run_recording.h"

#include <QFileInfo>

namespace kvs::ui {

RunRecording::RunRecording(const RecordingOptions& options, const RecordingMeta& meta)
    : path_(options.path) {
  timed([&] { recorder_ = std::make_unique<Hdf5Recorder>(options, meta); });
}

RunRecording::~RunRecording() = default;

template <typename F>
void RunRecording::timed(F&& body) {
  QElapsedTimer timer;
  timer.start();
  body();
  nanoseconds_ += timer.nsecsElapsed();
}

void RunRecording::beginForward(int firstPos, int n) {
  if (recorder_) timed([&] { recorder_->beginForward(firstPos, n); });
}

void RunRecording::onTensor(int layer, const std::string& name, const at::Tensor& tensor) {
  if (recorder_) timed([&] { recorder_->onTensor(layer, name, tensor); });
}

void RunRecording::appendToken(int id, const std::string& piece) {
  if (recorder_) timed([&] { recorder_->appendToken(id, piece); });
}

void RunRecording::addVariant(const CompressionParams& params, const std::vector<int>& generatedIds,
                              const SlotMap& slotMap, const std::string& figures) {
  if (!recorder_) return;
  timed([&] {
    recorder_->addVariant({variantName(params), params, generatedIds, &slotMap, figures});
  });
}

RecordingReport RunRecording::end(bool finish) {
  RecordingReport report;
  report.path = QString::fromStdString(path_);
  if (!recorder_) return report;
  timed([&] {
    if (finish) recorder_->finish();
    report.complete = finish && recorder_->ok();
    report.error = QString::fromStdString(recorder_->error());
    report.tokens = recorder_->recordedTokens();
    recorder_.reset();  // closes the file; without finish() it stays marked incomplete
  });
  report.bytes = QFileInfo(report.path).size();
  report.ms = nanoseconds_ / 1e6;
  return report;
}

}  // namespace kvs::ui
