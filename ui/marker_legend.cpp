#include "marker_legend.h"

#include <QFontMetrics>

namespace kvs::ui {
namespace {

constexpr int kPad = 3;                     // around the legend and between swatch and name
const QColor kSwatchColour(120, 120, 120);  // behind the marks: the white ones show on it

}  // namespace

MarkerLegend::MarkerLegend(QCustomPlot* plot, QVector<Marker> markers)
    : QCPLayoutElement(plot), markers_(std::move(markers)), font_(plot->xAxis->tickLabelFont()) {}

int MarkerLegend::rowHeight() const {
  return QFontMetrics(font_).height() + kPad;
}

int MarkerLegend::entryWidth(Marker marker) const {
  const QFontMetrics m(font_);
  return m.height() + kPad + m.horizontalAdvance(markerName(marker)) + 3 * kPad;
}

int MarkerLegend::availableWidth() const {
  // Laid out before it has a rect: the axis rect's column is most of the page's width.
  if (rect().width() > 0) return rect().width();
  return std::max(100, mParentPlot->viewport().width() * 3 / 4);
}

int MarkerLegend::flow(int width, QVector<QPointF>* at) const {
  int rows = markers_.isEmpty() ? 0 : 1;
  double x = 0, y = 0;
  for (Marker marker : markers_) {
    const int w = entryWidth(marker);
    if (x > 0 && x + w > width) {
      x = 0;
      y += rowHeight();
      ++rows;
    }
    if (at) at->push_back(QPointF(x, y));
    x += w;
  }
  return rows;
}

QSize MarkerLegend::minimumOuterSizeHint() const {
  const int rows = flow(availableWidth(), nullptr);
  return QSize(0, rows * rowHeight() + 2 * kPad) +
         QSize(mMargins.left() + mMargins.right(), mMargins.top() + mMargins.bottom());
}

QSize MarkerLegend::maximumOuterSizeHint() const {
  return QSize(QWIDGETSIZE_MAX, minimumOuterSizeHint().height());
}

void MarkerLegend::draw(QCPPainter* painter) {
  QVector<QPointF> at;
  flow(rect().width(), &at);
  // Centred under the data area (not under the tick labels left of it), inside the page.
  double rowsWidth = 0;
  for (int i = 0; i < markers_.size(); ++i) {
    rowsWidth = std::max(rowsWidth, at[i].x() + entryWidth(markers_[i]) - 3 * kPad);
  }
  const double centre = mParentPlot->axisRect()->rect().center().x();
  const double left =
      std::clamp(centre - rowsWidth / 2, double(mParentPlot->viewport().left() + kPad),
                 std::max(double(kPad), mParentPlot->viewport().right() - rowsWidth));
  const QPointF origin(left, rect().top() + kPad);
  const QFontMetrics m(font_);
  const double side = m.height();
  painter->setFont(font_);
  for (int i = 0; i < markers_.size(); ++i) {
    const QPointF p = origin + at[i];
    const QRectF swatch(p, QSizeF(side, side));
    painter->setPen(Qt::NoPen);
    painter->setBrush(kSwatchColour);
    painter->drawRect(swatch);
    const double line = std::max(1.0, side / 12);
    drawMarker(painter, markers_[i], swatch.center(),
               side * (markers_[i] == Marker::kSet ? 0.32 : 0.22), line);
    painter->setPen(Qt::black);
    painter->drawText(QRectF(p.x() + side + kPad, p.y(), entryWidth(markers_[i]), side),
                      Qt::AlignLeft | Qt::AlignVCenter, markerName(markers_[i]));
  }
}

}  // namespace kvs::ui
