#pragma once
// HeatmapCells: the heatmap's colour map, drawn as what it is, a matrix of token cells. Every cell
// covers exactly its tokens (token t spans t - 0.5 .. t + 0.5), so the first and last rows and
// columns are full cells: QCPColorMap puts its cells' centres at the ends of its range and, with a
// tight boundary, cuts the outer ones in half. The cells are one image pixel each, scaled without
// smoothing; on a vector device (PDF, SVG) that image is written losslessly (Qt would otherwise
// choose JPEG), or, for a few cells, each cell is a rectangle.

#include <QImage>

#include "qcustomplot_include.h"

namespace kvs::ui {

class HeatmapCells : public QCPColorMap {
  Q_OBJECT

 public:
  // Up to this many cells per axis are drawn as rectangles on a vector device.
  static constexpr int kMaxVectorCells = 48;

  HeatmapCells(QCPAxis* keyAxis, QCPAxis* valueAxis);
  // data() holds the cells from token firstKey (columns) and firstValue (rows) on, each `stride`
  // tokens wide (the last may be cut by the end of the matrix, `tokens` tokens). Call after
  // filling data(): QCPColorMapData does not tell a subclass that its cells changed.
  void setCells(int firstKey, int firstValue, int stride, int tokens);
  int stride() const { return stride_; }
  int firstKey() const { return firstKey_; }
  int firstValue() const { return firstValue_; }
  int tokens() const { return tokens_; }
  // One pixel per cell (row 0: the first value cell), as draw() scales it.
  const QImage& cellImage();

 protected:
  void draw(QCPPainter* painter) override;

 private:
  void drawRectangles(QCPPainter* painter);
  QRectF cellRect(int k, int v) const;  // in pixels

  QImage image_;
  bool stale_ = true;
  QCPColorGradient imageGradient_;  // what image_ was coloured with
  QCPRange imageRange_;
  int firstKey_ = 0, firstValue_ = 0, stride_ = 1, tokens_ = 0;
};

}  // namespace kvs::ui
