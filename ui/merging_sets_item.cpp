#include "merging_sets_item.h"

#include <algorithm>

namespace kvs::ui {
namespace {

// A token's mark is this fraction of its cell, but never smaller than kMinMarkFraction of the
// plot's side (in a 3.5-inch figure a mark 0.6 mm across): below that the marks overlap along
// the diagonal rather than vanish.
constexpr double kMarkFraction = 0.35;
constexpr double kMinMarkFraction = 1.0 / 160;
constexpr double kLineFraction = 1.0 / 300;  // of the plot's side; at least 1 unit

const QColor kSetColour(255, 255, 255, 230);
const QColor kPivotColour(255, 255, 255);
const QColor kOutlineColour(20, 20, 20);
const QColor kProtectedColour(230, 30, 30);
const QColor kEvictedColour(40, 40, 40);

}  // namespace

QString markerName(Marker marker) {
  switch (marker) {
    case Marker::kSet:
      return QObject::tr("merged set");
    case Marker::kPivot:
      return QObject::tr("pivot");
    case Marker::kProtected:
      return QObject::tr("protected");
    case Marker::kEvicted:
      return QObject::tr("evicted");
  }
  return {};
}

void drawMarker(QCPPainter* painter, Marker marker, const QPointF& c, double r, double line) {
  switch (marker) {
    case Marker::kSet:
      painter->setBrush(Qt::NoBrush);
      painter->setPen(QPen(kSetColour, line));
      painter->drawRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r));
      break;
    case Marker::kPivot:
      painter->setBrush(kPivotColour);
      painter->setPen(QPen(kOutlineColour, std::min(line * 0.5, r * 0.25)));
      painter->drawEllipse(c, r, r);
      break;
    case Marker::kProtected:
      painter->setBrush(kProtectedColour);
      painter->setPen(Qt::NoPen);
      painter->drawRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r));
      break;
    case Marker::kEvicted:
      painter->setBrush(Qt::NoBrush);
      painter->setPen(QPen(kEvictedColour, line));
      painter->drawLine(QPointF(c.x() - r, c.y() - r), QPointF(c.x() + r, c.y() + r));
      painter->drawLine(QPointF(c.x() - r, c.y() + r), QPointF(c.x() + r, c.y() - r));
      break;
  }
}

MergingSetsItem::MergingSetsItem(QCustomPlot* plot) : QCPAbstractItem(plot) {
  setSelectable(false);
}

void MergingSetsItem::setHead(const HeadLayout& head, int tokens) {
  head_ = head;
  blocks_ = 0;
  protected_ = 0;
  evicted_.clear();
  std::vector<char> covered(tokens, 0);
  for (const Slot& s : head_.slots) {
    blocks_ += s.count > 1;
    for (int t = s.first; t <= s.last && t < tokens; ++t) covered[t] = 1;
  }
  if (!head_.slots.empty()) {
    for (int t = 0; t < tokens; ++t) {
      if (!covered[t]) evicted_.push_back(t);
    }
  }
  for (char p : head_.isProtected) protected_ += p != 0;
}

QVector<Marker> MergingSetsItem::markers() const {
  QVector<Marker> m;
  if (blocks_ > 0) m << Marker::kSet << Marker::kPivot;
  if (protected_ > 0) m << Marker::kProtected;
  if (!evicted_.empty()) m << Marker::kEvicted;
  return m;
}

double MergingSetsItem::selectTest(const QPointF&, bool, QVariant*) const {
  return -1;  // decoration only: clicks go to the plot
}

double MergingSetsItem::tokenPixels() const {
  QCPAxis* x = parentPlot()->xAxis;
  return std::abs(x->coordToPixel(1) - x->coordToPixel(0));
}

double MergingSetsItem::plotSide() const {
  const QRect r = parentPlot()->axisRect()->rect();
  return std::min(r.width(), r.height());
}

double MergingSetsItem::markRadius() const {
  return std::max(kMarkFraction * tokenPixels(), kMinMarkFraction * plotSide());
}

double MergingSetsItem::lineWidth() const {
  return std::max(1.0, kLineFraction * plotSide());
}

void MergingSetsItem::draw(QCPPainter* painter) {
  QCPAxis* x = parentPlot()->xAxis;
  QCPAxis* y = parentPlot()->yAxis;
  const QCPRange xr = x->range();
  const QCPRange yr = y->range();
  const double lo = std::max(xr.lower, yr.lower), hi = std::min(xr.upper, yr.upper);
  if (lo > hi) return;  // the diagonal is out of view
  const auto corner = [&](double t) { return QPointF(x->coordToPixel(t), y->coordToPixel(t)); };
  const double line = lineWidth(), r = markRadius();

  painter->setBrush(Qt::NoBrush);
  painter->setPen(QPen(kSetColour, line));
  for (const Slot& s : head_.slots) {
    if (s.count < 2 || s.last + 0.5 < lo || s.first - 0.5 > hi) continue;
    painter->drawRect(QRectF(corner(s.first - 0.5), corner(s.last + 0.5)).normalized());
  }
  for (const Slot& s : head_.slots) {
    if (s.count > 1 && s.pivot >= lo && s.pivot <= hi) {
      drawMarker(painter, Marker::kPivot, corner(s.pivot), r, line);
    }
  }
  for (size_t t = 0; t < head_.isProtected.size(); ++t) {
    if (head_.isProtected[t] && t >= lo && t <= hi) {
      drawMarker(painter, Marker::kProtected, corner(t), r, line);
    }
  }
  for (int t : evicted_) {
    if (t >= lo && t <= hi) drawMarker(painter, Marker::kEvicted, corner(t), r, line);
  }
}

}  // namespace kvs::ui
