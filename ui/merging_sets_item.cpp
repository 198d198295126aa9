#include "merging_sets_item.h"

#include <algorithm>

namespace kvs::ui {
namespace {

// Markers are drawn only when a token is at least this many pixels wide (zoomed in enough).
constexpr double kMinMarkerPixels = 3.0;

}  // namespace

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

double MergingSetsItem::selectTest(const QPointF&, bool, QVariant*) const {
  return -1;  // decoration only: clicks go to the plot
}

void MergingSetsItem::draw(QCPPainter* painter) {
  QCPAxis* x = parentPlot()->xAxis;
  QCPAxis* y = parentPlot()->yAxis;
  const QCPRange xr = x->range();
  const QCPRange yr = y->range();
  const double lo = std::max(xr.lower, yr.lower), hi = std::min(xr.upper, yr.upper);
  if (lo > hi) return;  // the diagonal is out of view
  const double tokenPixels = std::abs(x->coordToPixel(1) - x->coordToPixel(0));
  const auto corner = [&](double t) { return QPointF(x->coordToPixel(t), y->coordToPixel(t)); };

  painter->setBrush(Qt::NoBrush);
  painter->setPen(QPen(QColor(255, 255, 255, 230), 1.5));
  for (const Slot& s : head_.slots) {
    if (s.count < 2 || s.last + 0.5 < lo || s.first - 0.5 > hi) continue;
    painter->drawRect(QRectF(corner(s.first - 0.5), corner(s.last + 0.5)).normalized());
  }
  if (tokenPixels < kMinMarkerPixels) return;
  const double r = std::clamp(tokenPixels * 0.25, 1.5, 5.0);
  painter->setPen(Qt::NoPen);
  painter->setBrush(QColor(255, 255, 255));
  for (const Slot& s : head_.slots) {
    if (s.count > 1 && s.pivot >= lo && s.pivot <= hi) painter->drawEllipse(corner(s.pivot), r, r);
  }
  painter->setBrush(QColor(230, 30, 30));
  for (size_t t = 0; t < head_.isProtected.size(); ++t) {
    if (head_.isProtected[t] && t >= lo && t <= hi) {
      const QPointF c = corner(t);
      painter->drawRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r));
    }
  }
  painter->setPen(QPen(QColor(40, 40, 40), 1.5));
  for (int t : evicted_) {
    if (t < lo || t > hi) continue;
    const QPointF c = corner(t);
    painter->drawLine(QPointF(c.x() - r, c.y() - r), QPointF(c.x() + r, c.y() + r));
    painter->drawLine(QPointF(c.x() - r, c.y() + r), QPointF(c.x() + r, c.y() - r));
  }
}

}  // namespace kvs::ui
