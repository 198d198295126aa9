#pragma once
// MarkerLegend: a legend of the heatmap's marks (merged set, pivot, protected, evicted) for an
// exported figure, one swatch and name per mark, flowed into as many rows as the width needs. Its
// font follows the paper style's tick-label size (the `font` property).

#include <QFont>
#include <QVector>

#include "merging_sets_item.h"
#include "qcustomplot_include.h"

namespace kvs::ui {

class MarkerLegend : public QCPLayoutElement {
  Q_OBJECT
  Q_PROPERTY(QFont font READ font WRITE setFont)

 public:
  MarkerLegend(QCustomPlot* plot, QVector<Marker> markers);
  QFont font() const { return font_; }
  void setFont(const QFont& font) { font_ = font; }
  const QVector<Marker>& markers() const { return markers_; }

  QSize minimumOuterSizeHint() const override;
  // No taller than its rows: the plot's row takes the rest of the page.
  QSize maximumOuterSizeHint() const override;

 protected:
  void draw(QCPPainter* painter) override;

 private:
  // Each entry's top-left corner when flowed into `width`; returns the rows used.
  int flow(int width, QVector<QPointF>* at) const;
  int entryWidth(Marker marker) const;
  int rowHeight() const;
  int availableWidth() const;

  QVector<Marker> markers_;
  QFont font_;
};

}  // namespace kvs::ui
