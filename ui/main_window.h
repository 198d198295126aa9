#pragma once
// MainWindow: composes the panels as dock widgets around the heatmap, and the menus. It holds no
// computation and no wiring of its own: each panel connects itself to the SessionController and
// registers its figures with the ExportMenu; RunControl drives Load/Run/Stop, RecordingControls
// the armed recording. The docks' arrangement (the default, and the saved one when it fits the
// screen) is in main_layout.cpp.

#include "io/recording_options.h"

#include <QMainWindow>

#include "plot_exporter.h"

class QDockWidget;
class QLabel;
class QMenu;
class QSettings;

namespace kvs::ui {

class ComparePanel;
class EvalPanel;
class ExportMenu;
class HeatmapPanel;
class MemoryPanel;
class OutputPanel;
class OverviewPanel;
class ParametersPanel;
class PromptPanel;
class PromptTokenCounter;
class RecordingControls;
class RunControl;
class SessionController;
class SessionWorker;
class SweepPanel;
class TokenTableModel;

// path made absolute against the current folder (empty stays empty): the settings keep model and
// recording paths that way, so that the app started from another folder reopens them.
QString absolutePath(const QString& path);

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
  EvalPanel* evaluation() const { return evaluation_; }
  SweepPanel* sweep() const { return sweep_; }
  TokenTableModel* tokenModel() const { return tokens_; }
  // Writes a registered figure ("heatmap", "layer-ratio", ...) with its CSV and JSON sidecar, as
  // its File menu entry does without the dialog; returns an empty string or the error.
  QString exportView(const QString& figure, const ExportRequest& request);

  // The next Run writes to options.path (File > Record next run to HDF5... asks for them; tests
  // call this directly).
  void armRecording(const kvs::RecordingOptions& options);
  bool recordingArmed() const;
  // Opens a recording without the model (File > Open recording..., or a .h5 as the model path).
  void openRecording(const QString& path);
  // View > Reset layout: the docks in their default places and proportions, the window at size
  // (empty: the default size for its screen; a maximised window stays maximised).
  void resetLayout(QSize size = {});

 private:
  // The dock widgets, by their place in the default arrangement.
  struct Docks {
    QDockWidget *prompt, *parameters, *output, *compare, *layerRatios, *overview, *memory, *tokens;
    QDockWidget* evaluation;  // a tab beside Layer ratios
    QDockWidget* sweep;       // a tab beside Compare
  };
  void createMenus();  // main_menus.cpp
  // File > Recent models: the last models loaded, newest first (kept in QSettings).
  void rememberModel(const QString& path);
  void fillRecentMenu();
  void openModel(const QString& path);
  QDockWidget* addDock(QWidget* panel, const QString& title, const char* name);
  QLabel* blasLabel();
  QString restoreSettings();  // returns the saved model path
  void saveSettings() const;
  // main_layout.cpp
  void arrangeDocks();
  void sizeDocks();
  // The saved geometry and dock state, unless the window saved was larger than the screen it
  // would open on (or the state is of an older arrangement); false when not restored.
  bool restoreLayout(const QSettings& settings);
  void saveLayout(QSettings& settings) const;
  void showEvent(QShowEvent* event) override;

  SessionController* controller_;
  PromptPanel* promptPanel_;
  OutputPanel* outputPanel_;
  ParametersPanel* parameters_;
  HeatmapPanel* heatmap_;
  MemoryPanel* memory_;
  TokenTableModel* tokens_;
  OverviewPanel* overview_;
  ComparePanel* compare_;
  EvalPanel* evaluation_ = nullptr;
  SweepPanel* sweep_ = nullptr;
  RunControl* runControl_;
  RecordingControls* recording_;
  ExportMenu* exportMenu_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  PromptTokenCounter* tokenCounter_;
  Docks docks_{};
  // resizeDocks needs the laid-out window: the default proportions wait for the first show.
  bool sizeDocksOnShow_ = false;
};

}  // namespace kvs::ui
