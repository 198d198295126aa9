#pragma once
// MergingSetsItem: draws one head's merging layout on a [T, T] heatmap in a single pass (one
// QCPItemRect per set would be thousands of items at large T): a square on the diagonal per
// merged set, the pivot as a dot, protected tokens and evicted tokens as marks on the diagonal.
// The marks are drawn at every size, scaled with the cells and, where cells are smaller than a
// mark, with the plot (so a small exported figure still shows them).

#include "analysis/merging_layout.h"

#include "qcustomplot_include.h"

namespace kvs::ui {

// The overlay's marks; the legend (marker_legend.h) draws the same.
enum class Marker { kSet, kPivot, kProtected, kEvicted };
QString markerName(Marker marker);
// One mark centred at c: a set's square of half-side r, a dot or square of radius r, a cross of
// arm r; lines `line` units wide.
void drawMarker(QCPPainter* painter, Marker marker, const QPointF& c, double r, double line);

class MergingSetsItem : public QCPAbstractItem {
  Q_OBJECT

 public:
  explicit MergingSetsItem(QCustomPlot* plot);

  // head: one head's layout (copied); an empty HeadLayout clears the overlay.
  void setHead(const kvs::HeadLayout& head, int tokens);
  // What is drawn: merged sets (squares), protected and evicted tokens.
  int blockCount() const { return blocks_; }
  int protectedCount() const { return protected_; }
  int evictedCount() const { return static_cast<int>(evicted_.size()); }
  const kvs::HeadLayout& head() const { return head_; }
  // The marks this layout draws, for a legend.
  QVector<Marker> markers() const;
  // The radius of a token's mark and the width of the lines for the current view, in pixels.
  double markRadius() const;
  double lineWidth() const;

  double selectTest(const QPointF& pos, bool onlySelectable,
                    QVariant* details = nullptr) const override;

 protected:
  void draw(QCPPainter* painter) override;

 private:
  double tokenPixels() const;
  double plotSide() const;  // the shorter side of the axis rect

  kvs::HeadLayout head_;
  std::vector<int> evicted_;
  int blocks_ = 0;
  int protected_ = 0;
};

}  // namespace kvs::ui
