#include "recording_state.h"

#include "record_dialog.h"

namespace kvs::ui {

void RecordingState::arm(const RecordingOptions& options) {
  options_ = options;
  Q_EMIT armedChanged(true);
}

void RecordingState::disarm() {
  options_.reset();
  Q_EMIT armedChanged(false);
}

bool RecordingState::confirmOverwrite(QWidget* parent) {
  if (!options_ || options_->overwrite) return true;
  if (!kvs::ui::confirmOverwrite(parent, QString::fromStdString(options_->path))) return false;
  options_->overwrite = true;
  return true;
}

std::optional<RecordingOptions> RecordingState::takeForRun() {
  std::optional<RecordingOptions> taken;
  taken.swap(options_);
  if (taken) {
    Q_EMIT started(QString::fromStdString(taken->path));
    Q_EMIT armedChanged(false);
  }
  return taken;
}

}  // namespace kvs::ui
