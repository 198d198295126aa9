#include "eval_needle_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <cmath>
#include <limits>
#include "qcustomplot_include.h"

#include "colour_maps.h"

namespace kvs::ui {
namespace {

// Heatmaps per row of the figure: three fit the middle column of a laptop's screen.
constexpr int kColumns = 3;

double valueOf(const eval::NeedleCell& c, EvalNeedleView::Value v) {
  if (c.samples == 0) return std::numeric_limits<double>::quiet_NaN();
  switch (v) {
    case EvalNeedleView::Value::kContainsRate:
      return c.containsRate;
    case EvalNeedleView::Value::kMeanNll:
      return c.meanNll;
    case EvalNeedleView::Value::kFirstRank:
      return c.meanFirstRank;
  }
  return 0;
}

QSharedPointer<QCPAxisTickerText> ticksOf(const QStringList& labels) {
  QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
  for (int i = 0; i < labels.size(); ++i) t->addTick(i, labels[i]);
  return t;
}

}  // namespace

EvalNeedleView::EvalNeedleView(QWidget* parent) : QWidget(parent) {
  value_ = new QComboBox(this);
  value_->setObjectName("needleValue");
  for (Value v : {Value::kContainsRate, Value::kMeanNll, Value::kFirstRank}) {
    value_->addItem(valueName(v), int(v));
  }
  plot_ = new QCustomPlot(this);
  plot_->setObjectName("needleHeatmaps");
  plot_->setMinimumSize(80, 60);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Value"), this));
  controls->addWidget(value_);
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls);
  layout->addWidget(plot_, 1);
  connect(value_, &QComboBox::currentIndexChanged, this, &EvalNeedleView::redraw);
}

QString EvalNeedleView::valueName(Value v) {
  switch (v) {
    case Value::kContainsRate:
      return tr("contains rate");
    case Value::kMeanNll:
      return tr("mean answer NLL (nats/token)");
    case Value::kFirstRank:
      return tr("first answer token's rank");
  }
  return {};
}

void EvalNeedleView::setData(const EvalData& data) {
  data_ = data;
  redraw();
}

void EvalNeedleView::setValue(Value v) {
  value_->setCurrentIndex(value_->findData(int(v)));
}

EvalNeedleView::Value EvalNeedleView::value() const {
  return static_cast<Value>(value_->currentData().toInt());
}

int EvalNeedleView::heatmapCount() const {
  return static_cast<int>(data_.needleRun.settings.size());
}

double EvalNeedleView::shownCell(int setting, int depthIndex, int lengthIndex) const {
  const size_t rows = data_.needleRun.depths.size(), columns = data_.needleRun.lengths.size();
  const size_t i = size_t(setting) * rows * columns + size_t(depthIndex) * columns + lengthIndex;
  if (i >= data_.needleGrid.size()) return std::numeric_limits<double>::quiet_NaN();
  return valueOf(data_.needleGrid[i], value());
}

void EvalNeedleView::redraw() {
  // Rebuilt from scratch: the number of heatmaps follows the settings in the records.
  plot_->clearPlottables();
  plot_->plotLayout()->clear();
  plot_->plotLayout()->simplify();
  const eval::NeedleRun& run = data_.needleRun;
  const int settings = heatmapCount();
  const int rows = int(run.depths.size()), columns = int(run.lengths.size());
  if (settings == 0 || rows == 0 || columns == 0) {
    plot_->replot();
    return;
  }
  QStringList lengthLabels, depthLabels;
  for (int L : run.lengths) lengthLabels << QString::number(L);
  for (double d : run.depths) depthLabels << QString::number(d, 'g', 4);
  const Value shown = value();
  auto* grid = new QCPLayoutGrid;
  plot_->plotLayout()->addElement(0, 0, grid);
  auto* scale = new QCPColorScale(plot_);
  plot_->plotLayout()->addElement(0, 1, scale);
  plot_->plotLayout()->setColumnStretchFactor(1, 0.01);
  scale->setType(QCPAxis::atRight);
  scale->axis()->setLabel(valueName(shown));
  QCPColorGradient gradient = colourMap(QStringLiteral("viridis"));
  gradient.setNanHandling(QCPColorGradient::nhTransparent);
  scale->setGradient(gradient);
  auto* margins = new QCPMarginGroup(plot_);
  double low = std::numeric_limits<double>::infinity(), high = -low;
  const int perRow = std::min(settings, kColumns);
  for (int s = 0; s < settings; ++s) {
    const int row = 2 * (s / perRow), column = s % perRow;
    const eval::NeedleCell& first = data_.needleGrid[size_t(s) * rows * columns];
    auto* title = new QCPTextElement(plot_, QString::fromStdString(first.setting));
    grid->addElement(row, column, title);
    auto* rect = new QCPAxisRect(plot_);
    grid->addElement(row + 1, column, rect);
    grid->setRowStretchFactor(row, 0.01);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    x->setTicker(ticksOf(lengthLabels));
    y->setTicker(ticksOf(depthLabels));
    x->setLabel(tr("context length"));
    if (column == 0) y->setLabel(tr("depth"));
    x->setRange(-0.5, columns - 0.5);
    y->setRange(-0.5, rows - 0.5);
    y->setRangeReversed(true);  // depth 0, the haystack's start, at the top
    x->grid()->setVisible(false);
    y->grid()->setVisible(false);
    auto* map = new QCPColorMap(x, y);
    map->data()->setSize(columns, rows);
    map->data()->setRange(QCPRange(0, columns - 1), QCPRange(0, rows - 1));
    for (int d = 0; d < rows; ++d) {
      for (int l = 0; l < columns; ++l) {
        const double v = shownCell(s, d, l);
        map->data()->setCell(l, d, v);
        if (!std::isnan(v)) {
          low = std::min(low, v);
          high = std::max(high, v);
        }
      }
    }
    map->setInterpolate(false);
    map->setColorScale(scale);
  }
  if (shown == Value::kContainsRate) {
    low = 0;
    high = 1;
  } else if (!(low < high)) {  // one value or none: a range around it
    low = std::isfinite(low) ? low - 0.5 : 0;
    high = low + 1;
  }
  scale->setDataRange(QCPRange(low, high));
  plot_->replot();
}

}  // namespace kvs::ui
