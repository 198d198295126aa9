#pragma once
// RecordingControls: the File menu's "Record next run to HDF5..." (checked while armed) and
// "Open recording...", and the status bar label that shows the armed recording, the file a run
// wrote or why it could not. The state itself is RecordingState's; this only shows and sets it.

#include <QObject>

#include "session_types.h"

class QAction;
class QLabel;
class QWidget;

namespace kvs::ui {

class RecordingState;
class RunControl;

class RecordingControls : public QObject {
  Q_OBJECT

 public:
  // Dialogs open over window; a recording chosen to open goes to run (it replaces the model).
  RecordingControls(RecordingState* state, RunControl* run, QWidget* window);

  QAction* recordAction() const { return record_; }
  QAction* openAction() const { return open_; }
  QLabel* label() const { return label_; }

 private:
  void chooseOptions();
  void chooseToOpen();
  void showArmed();
  void showStarted(const QString& path);
  void showDone(const RecordingReport& report);

  RecordingState* state_;
  RunControl* run_;
  QWidget* window_;
  QAction* record_;
  QAction* open_;
  QLabel* label_;
};

}  // namespace kvs::ui
