#include "thumbnail_grid.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>

#include "colour_maps.h"

namespace kvs::ui {
namespace {

constexpr int kLabel = 22;  // pixels for the layer / head labels
constexpr int kGap = 2;

}  // namespace

ThumbnailGrid::ThumbnailGrid(QWidget* parent) : QWidget(parent) {
  setMinimumSize(120, 80);
  setToolTip(tr("Click a thumbnail to show that layer and head"));
}

void ThumbnailGrid::setData(const OverviewData& d, const QString& colourMapName) {
  QCPColorGradient gradient = colourMap(colourMapName);
  layers_ = d.layers;
  heads_ = d.heads;
  images_.clear();
  for (const std::vector<float>& t : d.thumbnails) {
    QImage image(d.size, d.size, QImage::Format_RGB32);
    const auto [lo, hi] = std::minmax_element(t.begin(), t.end());
    const QCPRange range(t.empty() ? 0 : *lo, t.empty() ? 1 : std::max(*hi, *lo + 1e-6f));
    for (int r = 0; r < d.size; ++r) {
      auto* line = reinterpret_cast<QRgb*>(image.scanLine(r));
      for (int c = 0; c < d.size; ++c) line[c] = gradient.color(t[size_t(r) * d.size + c], range);
    }
    images_.push_back(image);
  }
  update();
}

void ThumbnailGrid::setSelected(int layer, int head) {
  selectedLayer_ = layer;
  selectedHead_ = head;
  update();
}

QRect ThumbnailGrid::cellRect(int layer, int head) const {
  if (layers_ == 0 || heads_ == 0) return {};
  const int side =
      std::max(4, std::min((width() - kLabel) / heads_, (height() - kLabel) / layers_));
  return QRect(kLabel + head * side + kGap, kLabel + layer * side + kGap, side - 2 * kGap,
               side - 2 * kGap);
}

void ThumbnailGrid::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  if (images_.size() != layers_ * heads_) return;
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
  p.setFont(small);
  for (int l = 0; l < layers_; ++l) {
    const QRect row = cellRect(l, 0);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(0, row.top(), kLabel - 2, row.height()), Qt::AlignRight | Qt::AlignVCenter,
               QString::number(l));
    for (int h = 0; h < heads_; ++h) {
      const QRect cell = cellRect(l, h);
      if (l == 0) {
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(QRect(cell.left(), 0, cell.width(), kLabel), Qt::AlignCenter,
                   QString::number(h));
      }
      p.drawImage(cell, images_[l * heads_ + h]);
      const bool selected = l == selectedLayer_ && (h == selectedHead_ || selectedHead_ < 0);
      if (selected) {
        p.setPen(QPen(QColor(230, 30, 30), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(cell.adjusted(-1, -1, 1, 1));
      }
    }
  }
}

void ThumbnailGrid::mousePressEvent(QMouseEvent* event) {
  for (int l = 0; l < layers_; ++l) {
    for (int h = 0; h < heads_; ++h) {
      if (cellRect(l, h).adjusted(-kGap, -kGap, kGap, kGap).contains(event->pos())) {
        Q_EMIT clicked(l, h);
        return;
      }
    }
  }
}

QSize ThumbnailGrid::sizeHint() const {
  return QSize(kLabel + 48 * std::max(1, heads_), kLabel + 48 * std::max(1, layers_));
}

}  // namespace kvs::ui
