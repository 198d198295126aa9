#pragma once
// PromptPanel: the model file, the prompt with its token count, and the sampling settings, with
// Run and Stop. It holds no logic: it reports what the user asked for and shows what the window
// allows (the count is made by PromptTokenCounter).

#include <QWidget>

#include "generation_job.h"

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace kvs::ui {

class PromptPanel : public QWidget {
  Q_OBJECT

 public:
  enum class State { kNoModel, kLoading, kReady, kRunning, kStopping };

  explicit PromptPanel(QWidget* parent = nullptr);

  GenerationJob job() const;
  void setJob(const GenerationJob& job);
  QString modelPath() const;
  void setModelPath(const QString& path);
  // New tokens cannot exceed the loaded model's context.
  void setContextLength(int positions);
  // The counter under the prompt: "tokens + new / context" (-1: nothing to show).
  void setTokenCount(int tokens);
  // Enables the controls that make sense in this state.
  void setState(State state);

 Q_SIGNALS:
  // path is absolute (the settings keep it, the app may start from another folder).
  void loadRequested(const QString& path);
  // The prompt, the chat switch or the system prompt changed.
  void jobEdited();
  void runRequested();
  void stopRequested();

 private:
  void browse();
  void showTokenCount();

  QLineEdit* modelPath_;
  QPushButton* browse_;
  QPlainTextEdit* prompt_;
  QLabel* tokenCount_;
  QCheckBox* chat_;
  QLineEdit* system_;
  QSpinBox* newTokens_;
  QDoubleSpinBox* temperature_;
  QDoubleSpinBox* topP_;
  QSpinBox* seed_;
  QPushButton* run_;
  QPushButton* stop_;
  int context_ = 0;        // 0 until a model is loaded
  int promptTokens_ = -1;  // the counter's last count; -1: none
};

}  // namespace kvs::ui
