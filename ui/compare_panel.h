#pragma once
// ComparePanel: 2-4 variants of the kept prompt side by side against the full cache: the table
// of settings and metrics (KL, top-1, NLL, KV bytes), and the selected variant's greedy text with
// the tokens that differ from the full cache's highlighted.

#include <QWidget>

#include "session_types.h"

class QCPBars;
class QCustomPlot;
class QPushButton;
class QTableView;
class QTextEdit;

namespace kvs::ui {

class CompareTableModel;

class ComparePanel : public QWidget {
  Q_OBJECT

 public:
  explicit ComparePanel(QWidget* parent = nullptr);

  CompareTableModel* model() const { return model_; }
  // The text view of the selected row (HTML with highlighted differences).
  QTextEdit* textView() const { return text_; }
  // KV bytes after compression per row (full cache first).
  QCPBars* memoryBars() const { return bars_; }
  void showRow(int row);

 public slots:
  void setResult(const kvs::ui::CompareResult& result);
  void setCurrentParams(const kvs::CompressionParams& params) { current_ = params; }

 signals:
  void compareRequested(const QVector<kvs::CompressionParams>& variants);
  // A row was chosen: show its merging sets.
  void rowSelected(const kvs::CompressionParams& params);

 private:
  CompareTableModel* model_;
  QTableView* table_;
  QTextEdit* text_;
  QCustomPlot* memory_;
  QCPBars* bars_;
  QPushButton* add_;
  kvs::CompressionParams current_;
};

}  // namespace kvs::ui
