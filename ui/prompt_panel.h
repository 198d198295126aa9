#pragma once
// PromptPanel: the model file, the prompt and the sampling settings, with Run and Stop.
// It holds no logic: it reports what the user asked for and shows what the window allows.

#include <QWidget>

#include "generation_job.h"

class QCheckBox;
class QDoubleSpinBox;
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
  // Steps cannot exceed the loaded model's context.
  void setContextLength(int positions);
  // Enables the controls that make sense in this state.
  void setState(State state);

 Q_SIGNALS:
  void loadRequested(const QString& path);
  void runRequested();
  void stopRequested();

 private:
  void browse();

  QLineEdit* modelPath_;
  QPushButton* browse_;
  QPlainTextEdit* prompt_;
  QCheckBox* chat_;
  QLineEdit* system_;
  QSpinBox* steps_;
  QDoubleSpinBox* temperature_;
  QDoubleSpinBox* topP_;
  QSpinBox* seed_;
  QPushButton* run_;
  QPushButton* stop_;
};

}  // namespace kvs::ui
