#pragma once
// SweepPanel: quality against one swept parameter (issue 20), a tab beside Compare. Pick the
// parameter, its values (FROM:TO:POINTS or V1,V2,..., as `compare --sweep`), the methods and the
// measure; the worker runs every variant from the kept prefill with progress and Stop, and the
// plot draws one line per method with the full cache as the reference line (sweep_plot.h, the
// code kvstudio-plot draws the CLI's figures with). A click on a point shows that variant's text
// and memory, and "Use" sends its setting to the Parameters panel. Open... reads a
// `compare --sweep --json` file (several prompts: +-std error bars). Exports as every figure.

#include "session/sweep_curves.h"

#include <QJsonObject>
#include <QMap>
#include <QWidget>
#include <functional>

#include "exportable_view.h"
#include "sweep_types.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTextEdit;

namespace kvs::ui {

class ExportMenu;
class ParametersPanel;
class SessionController;

class SweepPanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  explicit SweepPanel(QWidget* parent = nullptr);
  // Runs through the controller; the base setting comes from parameters, and a point's setting
  // goes back to it; the figure is registered with exportMenu.
  void wire(SessionController* controller, ExportMenu* exportMenu, ParametersPanel* parameters);

  QCustomPlot* plot() const { return plot_; }
  const kvs::SweepCurves& curves() const { return curves_; }
  kvs::SweepMeasure measure() const;
  bool running() const { return running_; }
  // The request the Run button would send (the sweep text, the ticked methods, the base).
  SweepRequest request() const;
  // Shows point `index` of curves().points (-1: the full cache) as a click on it does.
  void selectPoint(int index);
  int selectedPoint() const { return selected_; }
  // Reads a `compare --sweep --json` file; an empty string or the error.
  QString openJson(const QString& path);

  QVector<ExportFigure> exportFigures() const override;
  QString csv() const override;
  QJsonObject viewJson() const override;

 public Q_SLOTS:
  void setStatus(const kvs::ui::SweepStatus& status);
  void start();
  void stop();

 Q_SIGNALS:
  void sweepRequested(const kvs::ui::SweepRequest& request);
  void stopRequested();
  void exportRequested();
  // "Use": the clicked variant's setting.
  void paramsChosen(const kvs::CompressionParams& params);

 private:
  void parameterChanged();
  void redraw();
  void chooseFile();

  QComboBox* parameter_;
  QLineEdit* values_;
  QComboBox* measure_;
  QCheckBox* logY_;
  QMap<QString, QCheckBox*> methods_;
  QPushButton* run_;
  QPushButton* stop_;
  QPushButton* use_;
  QProgressBar* progress_;
  QLabel* status_;
  QCustomPlot* plot_;
  QTextEdit* detail_;

  std::function<kvs::CompressionParams()> base_;
  kvs::SweepCurves curves_;
  std::vector<SweepVariantDetail> details_;  // empty for a sweep opened from a file
  QString source_;                           // "this prompt" or the file opened
  int selected_ = -2;                        // -2: none
  bool running_ = false;
};

}  // namespace kvs::ui
