#pragma once
// MergingSetsItem: draws one head's merging layout on a [T, T] heatmap in a single pass (one
// QCPItemRect per set would be thousands of items at large T): a square on the diagonal per
// merged set, the pivot as a dot, protected tokens and evicted tokens as marks on the diagonal.

#include "analysis/merging_layout.h"

#include "qcustomplot_include.h"

namespace kvs::ui {

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

  double selectTest(const QPointF& pos, bool onlySelectable,
                    QVariant* details = nullptr) const override;

 protected:
  void draw(QCPPainter* painter) override;

 private:
  kvs::HeadLayout head_;
  std::vector<int> evicted_;
  int blocks_ = 0;
  int protected_ = 0;
};

}  // namespace kvs::ui
