#pragma once
// EvalPanel: the Evaluation dock. Results: a results file (File > Open evaluation results..., or
// the panel's Open button; LongBench or needle records, the perplexity JSON, or their HDF5 group)
// or a running evaluation's records, shown by kind: LongBench's task x setting table, bars and
// samples (EvalLongBenchView), the needle heatmaps (EvalNeedleView), the perplexity curves
// (EvalPerplexityView). Run: a needle grid or LongBench tasks on the loaded model, on the
// SessionWorker's thread with progress and Stop (EvalRunForm). The three figures export as the
// other views do (PNG / PDF / SVG, CSV and sidecar).

#include "compress/compression_params.h"

#include <QWidget>

#include "eval_results.h"
#include "eval_types.h"
#include "exportable_view.h"

class QLabel;
class QStackedWidget;
class QTabWidget;

namespace kvs::ui {

class EvalLongBenchView;
class EvalNeedleView;
class EvalPerplexityView;
class EvalRunForm;
class ExportMenu;
class ParametersPanel;
class SessionController;

class EvalPanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  explicit EvalPanel(QWidget* parent = nullptr);
  ~EvalPanel() override;
  // Runs go to the controller, whose worker holds the model; "Load this setting" goes to
  // parameters; the figures into exportMenu.
  void wire(SessionController* controller, ExportMenu* exportMenu, ParametersPanel* parameters);

  const EvalData& data() const { return data_; }
  bool loading() const { return loading_; }
  bool running() const;
  EvalRunForm* runForm() const { return form_; }
  EvalLongBenchView* longBenchView() const { return longBench_; }
  EvalNeedleView* needleView() const { return needle_; }
  EvalPerplexityView* perplexityView() const { return perplexity_; }
  const EvalRunStatus& lastStatus() const { return status_; }

  QVector<ExportFigure> exportFigures() const override;
  QString csv() const override;  // the shown kind's numbers
  CsvMaker figureCsv(const QString& figure) const override;
  QJsonObject viewJson() const override;

 public Q_SLOTS:
  // Reads path on another thread, then shows it (or the error, keeping what was shown).
  void openResults(const QString& path);
  // The file dialog of File > Open evaluation results... and the Open button.
  void chooseResults();
  // The Run page's fields as a request to the worker (refused with a message when incomplete).
  void startRun();
  void stopRun();
  void setStatus(const kvs::ui::EvalRunStatus& status);
  // The model the worker loaded, as the records of a run name it (RunControl::opened).
  void setModelPath(const QString& path) { modelPath_ = path; }

 Q_SIGNALS:
  void runRequested(const kvs::ui::EvalRunRequest& request);
  void stopRequested();
  void settingChosen(const kvs::CompressionParams& params);
  // "Show on the heatmap" of a LongBench sample: its prompt for the Prompt panel, before its
  // setting (settingChosen); the window runs it.
  void sampleChosen(const QString& prompt);
  void exportRequested(const QString& figure);
  void opened(const QString& path);  // a results file was read and is shown
  void openFailed(const QString& message);

 private:
  void showData(const EvalData& data);
  QString figureOfKind() const;  // the figure the Export button writes

  QTabWidget* tabs_;
  QLabel* source_;
  QStackedWidget* views_;
  QWidget* emptyPage_;
  EvalLongBenchView* longBench_;
  EvalNeedleView* needle_;
  EvalPerplexityView* perplexity_;
  EvalRunForm* form_;
  EvalData data_;
  EvalRunStatus status_;
  std::vector<nlohmann::json> runRecords_;  // the running evaluation's file, as statuses add it
  QString modelPath_;
  bool loading_ = false;
  quint64 loads_ = 0;  // the newest openResults; an older read that ends later is dropped
};

}  // namespace kvs::ui
