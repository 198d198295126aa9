#pragma once
// ComparePanel: 2-4 variants of the kept prompt side by side against the full cache: the table
// of settings and metrics (KL, top-1, NLL, KV bytes), and the selected variant's greedy text with
// the tokens that differ from the full cache's highlighted. Its File menu entry writes the memory
// bars as a figure with the whole table as its CSV and every variant's parameters in the sidecar.

#include <QWidget>

#include "exportable_view.h"
#include "session_types.h"

class QCPBars;
class QCustomPlot;
class QPushButton;
class QTableView;
class QTextEdit;

namespace kvs::ui {

class CompareTableModel;
class ExportMenu;
class ParametersPanel;
class SessionController;

class ComparePanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  explicit ComparePanel(QWidget* parent = nullptr);
  // "Add current settings" follows parameters; Compare and a row's sets go to the controller;
  // the memory bars go into exportMenu.
  void wire(SessionController* controller, ExportMenu* exportMenu, ParametersPanel* parameters);

  CompareTableModel* model() const { return model_; }
  // The text view of the selected row (HTML with highlighted differences).
  QTextEdit* textView() const { return text_; }
  // KV bytes after compression per row (full cache first).
  QCPBars* memoryBars() const { return bars_; }
  void showRow(int row);
  // One row per compared variant (full cache first): its settings and metrics, as the table.
  QString csv() const override;
  QJsonObject viewJson() const override;
  QVector<ExportFigure> exportFigures() const override;
  std::unique_ptr<ExportDecoration> decorate(const QString& figure,
                                             const ExportRequest& request) override;

 public Q_SLOTS:
  void setResult(const kvs::ui::CompareResult& result);
  void setCurrentParams(const kvs::CompressionParams& params) { current_ = params; }

 Q_SIGNALS:
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
