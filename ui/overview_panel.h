#pragma once
// OverviewPanel: every layer x head at a glance (thumbnails of the heatmap's source; click one to
// select it) and, below, the adjacent-similarity curves c[i] = cos(K[i], K[i+1]) of the selected
// layer (the selected head drawn bold) with the eps threshold the layout used.

#include "session_types.h"

#include <QWidget>

class QCPItemStraightLine;
class QCustomPlot;

namespace kvs::ui {

class ThumbnailGrid;

class OverviewPanel : public QWidget {
  Q_OBJECT

 public:
  explicit OverviewPanel(QWidget* parent = nullptr);

  ThumbnailGrid* grid() const { return grid_; }
  QCustomPlot* curvePlot() const { return curves_; }
  double epsLine() const;
  QString csv() const;  // the curves: position, then one column per head

 public slots:
  void setOverview(const kvs::ui::OverviewData& data);
  void setLayout(const kvs::ui::LayoutResult& result);
  void setSelection(int layer, int head);
  void setColourMapName(const QString& name) { colourMap_ = name; }

 signals:
  void headClicked(int layer, int head);

 private:
  void redrawCurves();

  ThumbnailGrid* grid_;
  QCustomPlot* curves_;
  QCPItemStraightLine* eps_;
  OverviewData data_;
  LayoutResult layout_;
  QString colourMap_ = QStringLiteral("viridis");
  int layer_ = 0, head_ = -1;
};

}  // namespace kvs::ui
