#pragma once
// LayerRatioPanel: the per-layer compression ratio (1 - slots / T of KVMerger's merging sets
// under a fixed eps) of the current prompt, and over a batch of prompts with its spread: the
// paper's second observation (kvmerger-spec.md section 1, its Fig. 3b). The current prompt's
// curve is recomputed from the kept prefill on every parameter change; the batch runs a forward
// pass per prompt on the SessionWorker's thread, with a progress bar and Stop.

#include "analysis/merge_analysis.h"
#include "compress/compression_params.h"

#include <QJsonObject>
#include <QWidget>
#include <functional>

#include "exportable_view.h"
#include "layer_ratio_types.h"
#include "session_types.h"

class QCPErrorBars;
class QCPGraph;
class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace kvs::ui {

class ExportMenu;
class ParametersPanel;
class SessionController;

class LayerRatioPanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  explicit LayerRatioPanel(QWidget* parent = nullptr);
  // Thresholds from parameters; the prompt, layouts and ratios from the controller, which tracks
  // the requests (newest curve wins, a new batch cancels the old); the figure in exportMenu,
  // which the panel's Export button opens.
  void wire(SessionController* controller, ExportMenu* exportMenu, ParametersPanel* parameters);

  QCustomPlot* plot() const { return plot_; }
  const std::vector<double>& currentRatios() const { return current_; }
  const kvs::LayerSpread& spread() const { return spread_; }
  const LayerRatioResult& batch() const { return batch_; }
  bool batchRunning() const { return running_; }
  QString promptsFile() const;  // the one the batch button offers (QSettings)
  // Where the current parameters are read when a request is made (the window's settings are
  // restored after the panel is built, without a change signal).
  void setParamsSource(std::function<kvs::CompressionParams()> source) {
    source_ = std::move(source);
  }
  QCPGraph* currentGraph() const { return currentGraph_; }
  QCPGraph* meanGraph() const { return meanGraph_; }
  QCPErrorBars* errorBars() const { return errorBars_; }
  // The plotted numbers: one row per layer, then each prompt's ratios.
  QString csv() const override;
  QJsonObject viewJson() const override;
  QVector<ExportFigure> exportFigures() const override;

 public Q_SLOTS:
  // The thresholds come from the current parameters (kvs::thresholdsFor).
  void setParams(const kvs::CompressionParams& params);
  // A prompt is kept on the worker: its curve can be asked for.
  void setPrompt(const kvs::ui::PromptInfo& info);
  // The model or recording whose prompt the curve shows was let go: the curve goes with it.
  void dropPrompt();
  // The ratio the current setting achieves per layer (whatever its method), as a dashed line.
  void setLayout(const kvs::ui::LayoutResult& result);
  void setResult(const kvs::ui::LayerRatioResult& result);
  // Starts a batch over path (remembered in QSettings); a running batch is stopped first.
  void startBatch(const QString& path);
  void stopBatch();

 Q_SIGNALS:
  // To SessionController::requestLayerRatios, which sets the ticket and the cancel flag.
  void ratiosRequested(const kvs::ui::LayerRatioRequest& request);
  // The batch's Stop button (SessionController::stopLayerRatios).
  void batchStopRequested();
  // The Export button: File > Export layer ratios.
  void exportRequested();

 private:
  LayerRatioRequest request() const;
  void requestCurrent();
  void chooseFile();
  void redraw();
  void fillTable();

  QCustomPlot* plot_;
  QCPGraph* currentGraph_;
  QCPGraph* settingGraph_;
  QCPGraph* minGraph_;
  QCPGraph* maxGraph_;
  QCPGraph* meanGraph_;
  QCPErrorBars* errorBars_;
  QPushButton* batchButton_;
  QPushButton* stopButton_;
  QProgressBar* progress_;
  QLabel* status_;
  QTableWidget* table_;

  kvs::MergeThresholds thresholds() const;

  std::function<kvs::CompressionParams()> source_;
  kvs::MergeThresholds thresholds_;  // from setParams when there is no source
  bool hasPrompt_ = false;
  int promptTokens_ = 0;
  std::vector<double> current_, setting_;
  QString settingName_;
  LayerRatioResult batch_;
  kvs::LayerSpread spread_;
  bool running_ = false;
};

}  // namespace kvs::ui
