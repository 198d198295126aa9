#include "run_control.h"

#include <QFileInfo>
#include <QLabel>
#include <QStatusBar>

#include "output_panel.h"
#include "parameters_panel.h"
#include "recording_state.h"
#include "session_controller.h"

namespace kvs::ui {
namespace {

QString stopText(const QString& reason) {
  if (reason == "steps") return RunControl::tr("all new tokens generated");
  if (reason == "stop_token") return RunControl::tr("end of text");
  if (reason == "cancelled") return RunControl::tr("stopped");
  return reason;
}

}  // namespace

RunControl::RunControl(SessionController* c, PromptPanel* prompt, ParametersPanel* parameters,
                       OutputPanel* output, QStatusBar* status, QWidget* window)
    : QObject(window),
      controller_(c),
      prompt_(prompt),
      parameters_(parameters),
      output_(output),
      status_(status),
      window_(window) {
  modelLabel_ = new QLabel(tr("No model loaded"), window);
  modelLabel_->setObjectName("modelLabel");
  connect(prompt, &PromptPanel::loadRequested, this, &RunControl::loadModel);
  connect(prompt, &PromptPanel::runRequested, this, &RunControl::run);
  connect(prompt, &PromptPanel::stopRequested, this, &RunControl::stop);
  connect(parameters, &ParametersPanel::paramsChanged, c, &SessionController::setParams);
  connect(c, &SessionController::layoutReady, parameters, [parameters](const LayoutResult& r) {
    parameters->showLayoutInfo(
        r.layout.error.empty()
            ? tr("layout in %1 ms").arg(r.ms, 0, 'f', 1)
            : tr("cannot apply: %1").arg(QString::fromStdString(r.layout.error)));
  });
  connect(c, &SessionController::modelLoaded, this, &RunControl::onModelLoaded);
  connect(c, &SessionController::modelDropped, this, [this] {
    // The new file's header was read and the old model let go: a failure now leaves none.
    stateBeforeOpen_ = PromptPanel::State::kNoModel;
    labelBeforeOpen_ = tr("No model loaded");
  });
  connect(c, &SessionController::finished, this, &RunControl::onFinished);
  connect(c, &SessionController::failed, this, &RunControl::onFailed);
  connect(c, &SessionController::busyChanged, this, &RunControl::onBusy);
  connect(c, &SessionController::recordingOpened, this, &RunControl::onRecordingOpened);
  connect(c, &SessionController::phase, this,
          [this](const QString& what) { showStatus(what + "..."); });
}

bool RunControl::isRecordingPath(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  return suffix == "h5" || suffix == "hdf5";
}

void RunControl::showStatus(const QString& message, int ms) {
  status_->showMessage(message, ms);
}

void RunControl::setState(PromptPanel::State state) {
  state_ = state;
  prompt_->setState(state);
}

void RunControl::loadModel(const QString& path) {
  if (isRecordingPath(path)) {
    openRecording(path);
    return;
  }
  if (state_ != PromptPanel::State::kNoModel && state_ != PromptPanel::State::kReady) return;
  stateBeforeOpen_ = state_;  // what a failed load goes back to: the model stays loaded
  labelBeforeOpen_ = modelLabel_->text();
  setState(PromptPanel::State::kLoading);
  loadingPath_ = path;
  modelLabel_->setText(tr("Loading..."));
  output_->startLoadProgress();
  showStatus(tr("Loading %1").arg(path));
  controller_->loadModel(path);
}

void RunControl::run() {
  if (state_ != PromptPanel::State::kReady) return;
  const GenerationJob job = prompt_->job();
  if (!controller_->recording()->confirmOverwrite(window_)) return;
  Q_EMIT runStarting();
  output_->clear();
  output_->startProgress(job.newTokens);
  showStatus(tr("Generating..."));
  setState(PromptPanel::State::kRunning);
  controller_->run(job, parameters_->params());  // takes the armed recording
}

void RunControl::stop() {
  if (state_ != PromptPanel::State::kRunning && state_ != PromptPanel::State::kLoading) return;
  controller_->stop();
  showStatus(tr("Stopping..."));
  if (state_ == PromptPanel::State::kRunning) setState(PromptPanel::State::kStopping);
}

void RunControl::onModelLoaded(const QString& description, int contextLength) {
  modelLabel_->setText(description);
  prompt_->setContextLength(contextLength);
  Q_EMIT opened(loadingPath_);
  showStatus(tr("Model loaded"), 5000);
  setState(PromptPanel::State::kReady);
}

void RunControl::onBusy(bool busy) {
  // A parameter change decodes again, a compare runs: Stop applies to them as to a run.
  if (busy && state_ == PromptPanel::State::kReady) setState(PromptPanel::State::kRunning);
}

void RunControl::onFinished(const GenerationStats& s) {
  if (s.stopReason == "compared") {
    showStatus(tr("Compared %1 variants with the full cache").arg(s.generatedTokens));
  } else {
    showStatus(tr("%1 tokens (%2), prefill %3 tokens in %4 ms, %5 tokens/s")
                   .arg(s.generatedTokens)
                   .arg(stopText(s.stopReason))
                   .arg(s.promptTokens)
                   .arg(s.prefillMs, 0, 'f', 1)
                   .arg(s.decodeTokensPerSecond, 0, 'f', 0));
  }
  if (!controller_->busy()) setState(PromptPanel::State::kReady);
}

void RunControl::onFailed(const QString& message) {
  if (openingRecording_ || state_ == PromptPanel::State::kLoading) {
    // A failed load or open: the worker kept what it had (a model, a recording or nothing).
    if (!openingRecording_) output_->failLoadProgress();
    openingRecording_ = false;
    modelLabel_->setText(labelBeforeOpen_);
    setState(stateBeforeOpen_);
  } else if (!controller_->busy() && !controller_->recordingOpen()) {  // a recording: no model
    setState(PromptPanel::State::kReady);
  }
  showStatus(tr("Error: %1").arg(message));
  output_->showError(message);
}

void RunControl::openRecording(const QString& path) {
  if (state_ != PromptPanel::State::kNoModel && state_ != PromptPanel::State::kReady) return;
  openingRecording_ = true;
  stateBeforeOpen_ = state_;
  labelBeforeOpen_ = modelLabel_->text();
  setState(PromptPanel::State::kLoading);
  modelLabel_->setText(tr("Opening..."));
  showStatus(tr("Opening recording %1").arg(path));
  output_->clear();
  controller_->openRecording(path, parameters_->params());
}

void RunControl::onRecordingOpened(const RecordingReport& r) {
  openingRecording_ = false;
  // Run needs the model; the views, parameters and layouts work from the recorded keys.
  setState(PromptPanel::State::kNoModel);
  modelLabel_->setText(tr("Recording %1").arg(r.description));
  modelLabel_->setToolTip(r.path);
  showStatus(tr("Recording opened in %1 ms: no model; load a model to generate%2")
                 .arg(r.ms, 0, 'f', 0)
                 .arg(r.complete ? QString() : tr(" (%1)").arg(r.error)));
  Q_EMIT opened(r.path);
}

}  // namespace kvs::ui
