#pragma once
// MainWindow: composes the prompt panel, the output panel and the status bar, and relays between
// them and the GenerationWorker on its thread. It holds no generation logic.

#include <QMainWindow>
#include <QThread>

#include "generation_stats.h"
#include "prompt_panel.h"

class QLabel;

namespace kvs::ui {

class GenerationWorker;
class OutputPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // modelPath is loaded at startup; empty means the model used last (QSettings), or else
  // KVS_DEFAULT_MODEL.
  explicit MainWindow(const QString& modelPath = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Lives on its own thread; exposed so tests can watch its signals.
  GenerationWorker* worker() const { return worker_; }

 private:
  void loadModel(const QString& path);
  void run();
  void stop();
  void onModelLoaded(const QString& description, int contextLength);
  void onFinished(const GenerationStats& stats);
  void onFailed(const QString& message);
  void setState(PromptPanel::State state);
  QString restoreSettings();  // returns the saved model path
  void saveSettings() const;

  PromptPanel* promptPanel_;
  OutputPanel* outputPanel_;
  QLabel* modelLabel_;
  QLabel* blasLabel_;
  QThread thread_;
  GenerationWorker* worker_;
  PromptPanel::State state_ = PromptPanel::State::kNoModel;
};

}  // namespace kvs::ui
