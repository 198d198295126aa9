#pragma once
// EvalNeedleView: a needle run's grid as one heatmap per setting, side by side in one plot (one
// figure for a paper): depth on y (0, the haystack's start, at the top), context length on x, the
// value chosen: the greedy answer's contains-rate, the answer's mean NLL or its first token's
// rank, on one colour scale for all settings. Cells with no record yet are left blank.

#include <QWidget>

#include "eval_results.h"

class QComboBox;
class QCustomPlot;

namespace kvs::ui {

class EvalNeedleView : public QWidget {
  Q_OBJECT

 public:
  enum class Value { kContainsRate, kMeanNll, kFirstRank };

  explicit EvalNeedleView(QWidget* parent = nullptr);

  void setData(const EvalData& data);
  void setValue(Value value);
  Value value() const;
  static QString valueName(Value value);  // "contains rate", ...
  QCustomPlot* plot() const { return plot_; }
  // The cell of a setting (index in data.needleRun.settings) as drawn; NaN when blank.
  double shownCell(int setting, int depthIndex, int lengthIndex) const;
  int heatmapCount() const;

 private:
  void redraw();

  QComboBox* value_;
  QCustomPlot* plot_;
  EvalData data_;
};

}  // namespace kvs::ui
