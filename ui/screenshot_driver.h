#pragma once
// ScreenshotDriver: drives a MainWindow through one run for the README's screenshots (kvstudio
// --screenshot FILE): waits for the model, runs the prompt, selects a layer and head, waits until
// every view is drawn, saves the window as PNG and quits.

#include <QObject>
#include <QString>
#include <QTimer>

namespace kvs::ui {

class MainWindow;

class ScreenshotDriver : public QObject {
  Q_OBJECT

 public:
  ScreenshotDriver(MainWindow* window, QString path, QString prompt, int layer, int head);
  // Tokens first..last shown on the heatmap (default: all).
  void setView(int first, int last);
  // Before the screenshot: compare the current setting, H2O and StreamingLLM at its budget.
  void setCompare(bool compare) { compare_ = compare; }
  // Before the screenshot: the Layer ratios panel's batch over its default prompts file.
  void setRatios(bool ratios) { ratios_ = ratios; }

 private:
  void poll();

  MainWindow* window_;
  QString path_, prompt_;
  int layer_, head_;
  int first_ = -1, last_ = -1;
  bool compare_ = false;
  bool ratios_ = false;
  bool compareClicked_ = false;
  int stage_ = 0;
  int waited_ = 0;  // polls in this stage
  QTimer timer_;
};

}  // namespace kvs::ui
