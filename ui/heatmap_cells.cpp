#include "heatmap_cells.h"

#include <vector>

namespace kvs::ui {

HeatmapCells::HeatmapCells(QCPAxis* keyAxis, QCPAxis* valueAxis) : QCPColorMap(keyAxis, valueAxis) {
  setInterpolate(false);
}

void HeatmapCells::setCells(int firstKey, int firstValue, int stride, int tokens) {
  firstKey_ = firstKey;
  firstValue_ = firstValue;
  stride_ = std::max(1, stride);
  tokens_ = tokens;
  stale_ = true;
}

const QImage& HeatmapCells::cellImage() {
  if (!stale_ && mGradient == imageGradient_ && mDataRange == imageRange_) return image_;
  const int nk = mMapData->keySize(), nv = mMapData->valueSize();
  image_ = QImage(nk, nv, QImage::Format_RGB32);
  std::vector<double> row(nk);
  const bool log = mDataScaleType == QCPAxis::stLogarithmic;
  for (int v = 0; v < nv; ++v) {
    for (int k = 0; k < nk; ++k) row[k] = mMapData->cell(k, v);
    mGradient.colorize(row.data(), mDataRange, reinterpret_cast<QRgb*>(image_.scanLine(v)), nk, 1,
                       log);
  }
  imageGradient_ = mGradient;
  imageRange_ = mDataRange;
  stale_ = false;
  return image_;
}

QRectF HeatmapCells::cellRect(int k, int v) const {
  const auto edge = [this](int first, int cell) {
    return std::min(first + cell * stride_, tokens_) - 0.5;
  };
  return QRectF(coordsToPixels(edge(firstKey_, k), edge(firstValue_, v)),
                coordsToPixels(edge(firstKey_, k + 1), edge(firstValue_, v + 1)))
      .normalized();
}

void HeatmapCells::draw(QCPPainter* painter) {
  const int nk = mMapData->keySize(), nv = mMapData->valueSize();
  if (mMapData->isEmpty() || tokens_ <= 0 || !mKeyAxis || !mValueAxis) return;
  const QImage& image = cellImage();
  painter->save();
  // The matrix ends where its last token does (a last block of the pyramid may be cut short).
  painter->setClipRect(
      QRectF(coordsToPixels(-0.5, -0.5), coordsToPixels(tokens_ - 0.5, tokens_ - 0.5)).normalized(),
      Qt::IntersectClip);
  painter->setAntialiasing(false);
  painter->setRenderHint(QPainter::SmoothPixmapTransform, false);
  painter->setRenderHint(QPainter::LosslessImageRendering, true);
  if (painter->modes().testFlag(QCPPainter::pmVectorized) && nk <= kMaxVectorCells &&
      nv <= kMaxVectorCells) {
    drawRectangles(painter);
  } else {
    // Whole strides: the last cell may reach past the matrix and is clipped there.
    const QPointF a = coordsToPixels(firstKey_ - 0.5, firstValue_ - 0.5);
    const QPointF b =
        coordsToPixels(firstKey_ + nk * stride_ - 0.5, firstValue_ + nv * stride_ - 0.5);
    // Image row 0 is the first value cell: mirrored where the axes run the other way.
    painter->drawImage(QRectF(a, b).normalized(), image.mirrored(a.x() > b.x(), a.y() > b.y()));
  }
  painter->restore();
}

void HeatmapCells::drawRectangles(QCPPainter* painter) {
  // Each cell overlaps the next by a quarter of a unit, so viewers that antialias shapes show no
  // hairline seams between cells (the clip keeps the outer cells at the matrix's edge).
  constexpr double kOverlap = 0.125;
  painter->setPen(Qt::NoPen);
  for (int v = 0; v < mMapData->valueSize(); ++v) {
    const QRgb* row = reinterpret_cast<const QRgb*>(image_.constScanLine(v));
    for (int k = 0; k < mMapData->keySize(); ++k) {
      painter->fillRect(cellRect(k, v).adjusted(-kOverlap, -kOverlap, kOverlap, kOverlap),
                        QColor::fromRgb(row[k]));
    }
  }
}

}  // namespace kvs::ui
