// MainWindow's recording: arming File > Record next run to HDF5..., reporting the file written,
// and opening a recording to explore it without the model.

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QSettings>
#include <QStatusBar>

#include "main_window.h"
#include "output_panel.h"
#include "parameters_panel.h"
#include "record_dialog.h"
#include "session_controller.h"

namespace kvs::ui {
namespace {

QString sizeText(qint64 bytes) {
  return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

}  // namespace

bool MainWindow::isRecordingPath(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  return suffix == "h5" || suffix == "hdf5";
}

void MainWindow::armRecording(const RecordingOptions& options) {
  armed_ = options;
  showRecordingArmed();
}

void MainWindow::showRecordingArmed() {
  recordAction_->setChecked(armed_.has_value());
  if (armed_) {
    recordingLabel_->setStyleSheet({});
    recordingLabel_->setText(tr("Next run records to %1")
                                 .arg(QFileInfo(QString::fromStdString(armed_->path)).fileName()));
  } else {
    recordingLabel_->clear();
  }
}

void MainWindow::chooseRecordingOptions() {
  RecordDialog dialog(this);
  if (dialog.exec() == QDialog::Accepted) {
    armRecording(dialog.options());
  } else {
    showRecordingArmed();  // unchecks the action again when nothing was armed before
  }
}

void MainWindow::onRecordingDone(const RecordingReport& r) {
  const QString name = QFileInfo(r.path).fileName();
  if (r.complete) {
    recordingLabel_->setStyleSheet({});
    recordingLabel_->setText(
        tr("Recorded %1 tokens to %2 (%3)").arg(r.tokens).arg(name, sizeText(r.bytes)));
    recordingLabel_->setToolTip(
        tr("%1\nwriting took %2 ms of the run").arg(r.path).arg(r.ms, 0, 'f', 1));
    return;
  }
  // Shown in red until the next recording: the run's own messages follow in the status bar.
  recordingLabel_->setStyleSheet("color: #c01010");
  recordingLabel_->setText(
      QFileInfo::exists(r.path)
          ? tr("Recording %1 incomplete (%2): %3").arg(name, sizeText(r.bytes), r.error)
          : tr("Not recorded: %1").arg(r.error));
  recordingLabel_->setToolTip(r.path);
}

void MainWindow::chooseRecordingToOpen() {
  QSettings settings;
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open recording"),
      QFileInfo(settings.value("record/path").toString()).absolutePath(),
      tr("KV Studio recordings (*.h5 *.hdf5);;All files (*)"));
  if (!path.isEmpty()) openRecording(path);
}

void MainWindow::openRecording(const QString& path) {
  if (state_ != PromptPanel::State::kNoModel && state_ != PromptPanel::State::kReady) return;
  openingRecording_ = true;
  stateBeforeOpen_ = state_;
  labelBeforeOpen_ = modelLabel_->text();
  setState(PromptPanel::State::kLoading);
  modelLabel_->setText(tr("Opening..."));
  statusBar()->showMessage(tr("Opening recording %1").arg(path));
  outputPanel_->clear();
  controller_->openRecording(path, parameters_->params());
}

void MainWindow::onRecordingOpened(const RecordingReport& r) {
  openingRecording_ = false;
  // Run needs the model; the views, parameters and layouts work from the recorded keys.
  setState(PromptPanel::State::kNoModel);
  modelLabel_->setText(tr("Recording %1").arg(r.description));
  modelLabel_->setToolTip(r.path);
  statusBar()->showMessage(tr("Recording opened in %1 ms: no model; load a model to generate%2")
                               .arg(r.ms, 0, 'f', 0)
                               .arg(r.complete ? QString() : tr(" (%1)").arg(r.error)));
  rememberModel(r.path);
}

}  // namespace kvs::ui
