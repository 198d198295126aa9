#include "recording_controls.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QSettings>

#include "record_dialog.h"
#include "recording_state.h"
#include "run_control.h"

namespace kvs::ui {
namespace {

QString sizeText(qint64 bytes) {
  return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

}  // namespace

RecordingControls::RecordingControls(RecordingState* state, RunControl* run, QWidget* window)
    : QObject(window), state_(state), run_(run), window_(window) {
  open_ = new QAction(tr("Open &recording..."), this);
  open_->setObjectName("openRecordingAction");
  open_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  connect(open_, &QAction::triggered, this, &RecordingControls::chooseToOpen);
  record_ = new QAction(tr("Record next run to &HDF5..."), this);
  record_->setObjectName("recordAction");
  record_->setCheckable(true);
  record_->setToolTip(
      tr("The next Run writes its states to an HDF5 file, as "
         "kvstudio-cli generate --record"));
  connect(record_, &QAction::triggered, this, [this](bool checked) {
    if (checked) {
      chooseOptions();
    } else {
      state_->disarm();
    }
  });
  label_ = new QLabel(window);
  label_->setObjectName("recordingLabel");
  connect(state, &RecordingState::armedChanged, this, &RecordingControls::showArmed);
  connect(state, &RecordingState::started, this, &RecordingControls::showStarted);
  connect(state, &RecordingState::done, this, &RecordingControls::showDone);
}

void RecordingControls::showArmed() {
  record_->setChecked(state_->armed());
  if (state_->armed()) {
    label_->setStyleSheet({});
    label_->setText(
        tr("Next run records to %1")
            .arg(QFileInfo(QString::fromStdString(state_->options()->path)).fileName()));
  } else if (label_->text().startsWith(tr("Next run records to"))) {
    label_->clear();  // disarmed before a run: nothing to show
  }
}

void RecordingControls::showStarted(const QString& path) {
  label_->setStyleSheet({});  // a previous failure left it red
  label_->setText(tr("Recording to %1...").arg(path));
}

void RecordingControls::chooseOptions() {
  RecordDialog dialog(window_);
  if (dialog.exec() == QDialog::Accepted) {
    state_->arm(dialog.options());
  } else {
    showArmed();  // unchecks the action again when nothing was armed before
  }
}

void RecordingControls::showDone(const RecordingReport& r) {
  const QString name = QFileInfo(r.path).fileName();
  if (r.complete) {
    label_->setStyleSheet({});
    label_->setText(tr("Recorded %1 tokens to %2 (%3)").arg(r.tokens).arg(name, sizeText(r.bytes)));
    label_->setToolTip(tr("%1\nwriting took %2 ms of the run").arg(r.path).arg(r.ms, 0, 'f', 1));
    return;
  }
  // Shown in red until the next recording: the run's own messages follow in the status bar.
  label_->setStyleSheet("color: #c01010");
  label_->setText(QFileInfo::exists(r.path)
                      ? tr("Recording %1 incomplete (%2): %3").arg(name, sizeText(r.bytes), r.error)
                      : tr("Not recorded: %1").arg(r.error));
  label_->setToolTip(r.path);
}

void RecordingControls::chooseToOpen() {
  QSettings settings;
  const QString path = QFileDialog::getOpenFileName(
      window_, tr("Open recording"),
      QFileInfo(settings.value("record/path").toString()).absolutePath(),
      tr("KV Studio recordings (*.h5 *.hdf5);;All files (*)"));
  if (!path.isEmpty()) run_->openRecording(path);
}

}  // namespace kvs::ui
