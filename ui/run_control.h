#pragma once
// RunControl: what the Prompt panel's Load, Run and Stop do, and the state that decides which of
// them are allowed (no model, loading, ready, running, stopping). It sends the requests to the
// SessionController, passes parameter changes on, and reports each step in the status bar and
// the model label. Opening a recording is a load too (the recording replaces the model).

#include <QObject>

#include "generation_stats.h"
#include "prompt_panel.h"
#include "session_types.h"

class QLabel;
class QStatusBar;
class QWidget;

namespace kvs::ui {

class OutputPanel;
class ParametersPanel;
class SessionController;

class RunControl : public QObject {
  Q_OBJECT

 public:
  // Questions (overwrite a recording?) open over window.
  RunControl(SessionController* controller, PromptPanel* prompt, ParametersPanel* parameters,
             OutputPanel* output, QStatusBar* status, QWidget* window);

  // The loaded model, or what is happening to it.
  QLabel* modelLabel() const { return modelLabel_; }
  static bool isRecordingPath(const QString& path);
  // A model, or a recording (.h5) explored without one; ignored while busy.
  void loadModel(const QString& path);
  void openRecording(const QString& path);
  void run();
  void stop();

 Q_SIGNALS:
  // Before a run is sent: the window saves its settings.
  void runStarting();
  // A model or recording was opened from path (the recent files list).
  void opened(const QString& path);

 private:
  void onModelLoaded(const QString& description, int contextLength);
  void onFinished(const GenerationStats& stats);
  void onFailed(const QString& message);
  void onBusy(bool busy);
  void onRecordingOpened(const RecordingReport& report);
  void setState(PromptPanel::State state);
  void showStatus(const QString& message, int ms = 0);

  SessionController* controller_;
  PromptPanel* prompt_;
  ParametersPanel* parameters_;
  OutputPanel* output_;
  QStatusBar* status_;
  QWidget* window_;
  QLabel* modelLabel_;
  QString loadingPath_;
  PromptPanel::State state_ = PromptPanel::State::kNoModel;
  // While a model loads or a recording opens: what to go back to when it cannot be read.
  bool openingRecording_ = false;
  PromptPanel::State stateBeforeOpen_ = PromptPanel::State::kNoModel;
  QString labelBeforeOpen_;
};

}  // namespace kvs::ui
