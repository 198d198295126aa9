#pragma once
// RecordingState: whether the next run records, and where and how (File > Record next run to
// HDF5...). The one place that state lives: the File menu's action and the status label show it,
// a run takes it (the next run only), and the report of the file written arrives here too.
// GUI thread only; the worker gets a copy with the run it belongs to.

#include "io/recording_options.h"

#include <QObject>
#include <optional>

#include "session_types.h"

class QWidget;

namespace kvs::ui {

class RecordingState : public QObject {
  Q_OBJECT

 public:
  explicit RecordingState(QObject* parent = nullptr) : QObject(parent) {}

  bool armed() const { return options_.has_value(); }
  const std::optional<kvs::RecordingOptions>& options() const { return options_; }
  void arm(const kvs::RecordingOptions& options);
  void disarm();
  // Asked in the GUI thread when a run starts, in case the file appeared since it was chosen:
  // false when the user keeps the existing file (the run does not start, the arming stays).
  bool confirmOverwrite(QWidget* parent);
  // The options for the run about to start, disarming: a recording belongs to one run.
  std::optional<kvs::RecordingOptions> takeForRun();

 Q_SIGNALS:
  void armedChanged(bool armed);
  // The run took the options: it writes to path now.
  void started(const QString& path);
  // The file a run wrote (or why it could not), from the worker.
  void done(const kvs::ui::RecordingReport& report);

 private:
  std::optional<kvs::RecordingOptions> options_;
};

}  // namespace kvs::ui
