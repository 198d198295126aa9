#pragma once
// MainWindow: composes the panels as dock widgets around the heatmap and connects them to the
// SessionController. It holds no computation: the controller talks to the worker, the panels draw.

// Core headers first: some have members named `slots`, a Qt macro.
#include "io/recording_options.h"

#include <QMainWindow>
#include <optional>

#include "generation_stats.h"
#include "plot_exporter.h"
#include "prompt_panel.h"
#include "session_types.h"

class QAction;
class QLabel;
class QMenu;

namespace kvs::ui {

class ComparePanel;
class HeatmapPanel;
class MemoryPanel;
class OutputPanel;
class OverviewPanel;
class ParametersPanel;
class SessionController;
class SessionWorker;
class TokenTableModel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // modelPath is loaded at startup; empty means the model used last (QSettings), or else
  // KVS_DEFAULT_MODEL.
  explicit MainWindow(const QString& modelPath = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  SessionController* controller() const { return controller_; }
  // Lives on its own thread; exposed so tests can watch its signals.
  SessionWorker* worker() const;
  HeatmapPanel* heatmap() const { return heatmap_; }
  ParametersPanel* parameters() const { return parameters_; }
  MemoryPanel* memory() const { return memory_; }
  OutputPanel* output() const { return outputPanel_; }
  OverviewPanel* overview() const { return overview_; }
  ComparePanel* compare() const { return compare_; }
  TokenTableModel* tokenModel() const { return tokens_; }
  // Writes the figure with its CSV and JSON sidecar; returns an empty string or the error.
  QString exportView(const QString& view, const ExportRequest& request);
  // The heatmap of every layer (same head and source), one figure each, "<name>_layer<l>.<ext>"
  // with its CSV and sidecar. Waits for each layer's matrix from the worker.
  QString exportAllLayers(const ExportRequest& request);

  // Recording (main_window_recording.cpp). The next Run writes to options.path (File > Record
  // next run to HDF5... asks for them; tests call this directly).
  void armRecording(const kvs::RecordingOptions& options);
  bool recordingArmed() const { return armed_.has_value(); }
  // Opens a recording without the model (File > Open recording..., or a .h5 as the model path).
  void openRecording(const QString& path);
  static bool isRecordingPath(const QString& path);

 private:
  void createMenus();  // main_menus.cpp
  // File > Recent models: the last models loaded, newest first (kept in QSettings).
  void rememberModel(const QString& path);
  void fillRecentMenu();
  // Token table and output colours follow the layout drawn on the heatmap.
  void updateTokenViews();
  void exportWithDialog(const QString& view);
  void addDock(QWidget* panel, const QString& title, const char* name, Qt::DockWidgetArea area);
  void loadModel(const QString& path);
  void run();
  void stop();
  void onModelLoaded(const QString& description, int contextLength);
  void onFinished(const GenerationStats& stats);
  void onFailed(const QString& message);
  void onBusy(bool busy);
  void setState(PromptPanel::State state);
  QString restoreSettings();  // returns the saved model path
  void chooseRecordingOptions();
  void chooseRecordingToOpen();
  void showRecordingArmed();
  void onRecordingDone(const RecordingReport& report);
  void onRecordingOpened(const RecordingReport& report);
  void saveSettings() const;

  SessionController* controller_;
  PromptPanel* promptPanel_;
  OutputPanel* outputPanel_;
  ParametersPanel* parameters_;
  HeatmapPanel* heatmap_;
  MemoryPanel* memory_;
  TokenTableModel* tokens_;
  OverviewPanel* overview_;
  ComparePanel* compare_;
  int overviewSource_ = -1;  // the source the overview shows (-1: none for this prompt)
  QMenu* viewMenu_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QString loadingPath_;
  QLabel* modelLabel_;
  QLabel* blasLabel_;
  QLabel* recordingLabel_;  // the armed or last recording, its size, or why it failed
  QAction* recordAction_ = nullptr;
  std::optional<kvs::RecordingOptions> armed_;
  // While a recording opens: what to go back to when it cannot be read.
  bool openingRecording_ = false;
  PromptPanel::State stateBeforeOpen_ = PromptPanel::State::kNoModel;
  QString labelBeforeOpen_;
  PromptPanel::State state_ = PromptPanel::State::kNoModel;
};

}  // namespace kvs::ui
