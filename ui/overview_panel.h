#pragma once
// OverviewPanel: every layer x head at a glance (thumbnails of the heatmap's source; click one to
// select it) and, below, the adjacent-similarity curves c[i] = cos(K[i], K[i+1]) of the selected
// layer (the selected head drawn bold) with the eps threshold the layout used.

#include "session_types.h"

#include <QWidget>

#include "exportable_view.h"

class QCPItemStraightLine;
class QCustomPlot;

class QLabel;

namespace kvs::ui {

class ExportMenu;
class HeatmapPanel;
class SessionController;
class ThumbnailGrid;

class OverviewPanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  explicit OverviewPanel(QWidget* parent = nullptr);
  // Thumbnails of the heatmap's source (asked for once per prompt and source), the selection
  // kept in step with the heatmap both ways, the curves' figure in exportMenu.
  void wire(SessionController* controller, ExportMenu* exportMenu, HeatmapPanel* heatmap);

  ThumbnailGrid* grid() const { return grid_; }
  QCustomPlot* curvePlot() const { return curves_; }
  double epsLine() const;
  QString epsFoundText() const;
  QString csv() const override;  // the curves: position, then one column per head
  QJsonObject viewJson() const override;
  QVector<ExportFigure> exportFigures() const override;

 public Q_SLOTS:
  void setOverview(const kvs::ui::OverviewData& data);
  void setLayout(const kvs::ui::LayoutResult& result);
  void setSelection(int layer, int head);
  void setColourMapName(const QString& name) { colourMap_ = name; }

 Q_SIGNALS:
  void headClicked(int layer, int head);

 private:
  void redrawCurves();

  ThumbnailGrid* grid_;
  QCustomPlot* curves_;
  QCPItemStraightLine* eps_;
  // With an exact budget: the eps searched for each KV head of the layer (the panel's eps field
  // has no effect then, so this is where the thresholds are read).
  QLabel* epsFound_;
  OverviewData data_;
  LayoutResult layout_;
  QString colourMap_ = QStringLiteral("viridis");
  int layer_ = 0, head_ = -1;
  // The thumbnails asked for: source, of the prompt with this ticket.
  int requestedSource_ = -1;
  quint64 requestedPrompt_ = 0;
};

}  // namespace kvs::ui
