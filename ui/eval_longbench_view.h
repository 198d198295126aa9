#pragma once
// EvalLongBenchView: a LongBench run's results. The task x setting table (eval.py's scores, x100),
// its bars (one group per task, one bar per setting), the samples of the selected task and
// setting, and the clicked sample's details (prompt length, prediction, answers, score) with a
// button that puts its setting into the Parameters panel (its merging sets then show on the
// heatmap).

#include "compress/compression_params.h"

#include <QWidget>

#include "eval_results.h"

class QCustomPlot;
class QLabel;
class QTabWidget;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace kvs::ui {

class EvalLongBenchView : public QWidget {
  Q_OBJECT

 public:
  explicit EvalLongBenchView(QWidget* parent = nullptr);

  void setData(const EvalData& data);
  QCustomPlot* plot() const { return bars_; }
  QTableWidget* table() const { return table_; }
  QTableWidget* samples() const { return samples_; }
  QPlainTextEdit* details() const { return details_; }
  QTabWidget* pages() const { return pages_; }
  // The samples table shows row `row` of the task x setting table (table() selection does it).
  void selectTableRow(int row);

 Q_SIGNALS:
  // "Show on the heatmap": the sample's prompt text (when the file keeps it), then its setting.
  void sampleChosen(const QString& prompt);
  void settingChosen(const kvs::CompressionParams& params);

 private:
  void fillTable();
  void drawBars();
  void fillSamples();
  void showSample(int row);

  QTabWidget* pages_;  // Scores (table, bars) | Samples (samples, details)
  QLabel* samplesOf_;
  QTableWidget* table_;
  QCustomPlot* bars_;
  QTableWidget* samples_;
  QPlainTextEdit* details_;
  QPushButton* loadSetting_;
  EvalData data_;
  std::vector<const nlohmann::json*> shownSamples_;  // into data_.records
  nlohmann::json chosenParams_;
  QString chosenPrompt_;  // the shown sample's prompt text; empty: not in the file
};

}  // namespace kvs::ui
