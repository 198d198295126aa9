#pragma once
// ThumbnailGrid: small multiples of every (layer, head) matrix, one image each, painted in a grid
// (rows: layers, columns: heads); a click selects a (layer, head). Plain QPainter: a 7B model has
// 1,024 of them, too many for one plot widget each.

#include <QImage>
#include <QVector>
#include <QWidget>

#include "session_types.h"

namespace kvs::ui {

class ThumbnailGrid : public QWidget {
  Q_OBJECT

 public:
  explicit ThumbnailGrid(QWidget* parent = nullptr);

  void setData(const OverviewData& data, const QString& colourMapName);
  void setSelected(int layer, int head);
  int layers() const { return layers_; }
  int heads() const { return heads_; }
  // The cell of (layer, head) in widget coordinates.
  QRect cellRect(int layer, int head) const;

 Q_SIGNALS:
  void clicked(int layer, int head);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  QSize sizeHint() const override;

 private:
  QVector<QImage> images_;  // [layer * heads + head]
  int layers_ = 0, heads_ = 0;
  int selectedLayer_ = 0, selectedHead_ = -1;
};

}  // namespace kvs::ui
