#pragma once
// SweepPanel: quality against one swept parameter (issue 20), a tab beside Compare. Pick the
// parameter, its values (FROM:TO:POINTS or V1,V2,..., as `compare --sweep`), the methods and the
// measure; the worker runs every variant from the kept prefill with progress and Stop, and the
// plot draws one line per method with the full cache as the reference line (sweep_plot.h, the
// code kvstudio-plot draws the CLI's figures with). A click on a point shows that variant's text
// memory and merging sets, and "Use" sends its setting to the Parameters panel. Over a prompts
// file each point is the mean over the prompts, with +-std error bars or a min-max band. Open...
// reads a `compare --sweep --json` file or a merged Slurm sweep's results.json. Exports as every
// figure (the CSV holds every point and every prompt's value). The panel's code is in two files:
// sweep_panel.cpp (controls and runs) and sweep_panel_results.cpp (what a finished sweep shows).

#include "session/sweep_curves.h"

#include <QJsonObject>
#include <QMap>
#include <QWidget>
#include <functional>

#include "exportable_view.h"
#include "sweep_plot.h"
#include "sweep_types.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
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
  // Reads a `compare --sweep --json` file or a merged sweep's results.json (its curves of the
  // parameter chosen in the panel when it holds them, else its first); an empty string or the
  // error.
  QString openJson(const QString& path);
  // The prompts file the Sweep button measures (empty: the kept prompt).
  void setPromptsFile(const QString& path);
  SweepSpread spread() const;

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
  // A point of the kept prompt's sweep was clicked: its merging sets on the views.
  void layoutRequested(const kvs::CompressionParams& params);

 private:
  void parameterChanged();
  void redraw();
  void chooseFile();
  void choosePromptsFile();
  void showDetail();  // the selected point, of the prompt chosen in detailPrompt_

  QComboBox* parameter_;
  QLineEdit* values_;
  QComboBox* measure_;
  QCheckBox* logY_;
  QComboBox* spread_;
  QLineEdit* promptsFile_;
  QSpinBox* newTokens_;
  QSpinBox* detailPrompt_;
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
  std::vector<SweepPromptDetails> details_;  // [prompt]; empty for a sweep opened from a file
  QStringList prompts_;                      // a prompts file's, for the detail's heading
  QString source_;                           // "this prompt", the prompts file or the file opened
  SweepRequest ran_;                         // the last one started, for the sidecar
  int selected_ = -2;                        // -2: none
  bool running_ = false;
};

}  // namespace kvs::ui
