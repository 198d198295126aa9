#include "eval_perplexity_view.h"

#include <QVBoxLayout>
#include "qcustomplot_include.h"

#include "eval_colours.h"

namespace kvs::ui {

EvalPerplexityView::EvalPerplexityView(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  plot_->setObjectName("perplexityCurves");
  plot_->setMinimumSize(80, 60);
  plot_->xAxis->setLabel(tr("position"));
  plot_->yAxis->setLabel(tr("NLL (nats)"));
  plot_->legend->setVisible(true);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  // The legend right of the curves, at the top (inside it hid them): a spacer under it takes the
  // rest of the column.
  auto* side = new QCPLayoutGrid;
  plot_->plotLayout()->addElement(0, 1, side);
  plot_->plotLayout()->setColumnStretchFactor(1, 0.01);
  plot_->axisRect()->insetLayout()->take(plot_->legend);
  side->addElement(0, 0, plot_->legend);
  side->addElement(1, 0, new QCPLayoutElement(plot_));
  side->setRowStretchFactor(0, 0.001);
  plot_->legend->setMargins(QMargins(4, 2, 4, 2));
  title_ = new QCPTextElement(plot_, QString());
  title_->setObjectName("perplexityTitle");
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, title_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
}

QString EvalPerplexityView::curveName(const PerplexityCurveData& c) {
  return tr("%1 (cache %2): mean NLL %3")
      .arg(c.setting)
      .arg(c.cacheSize)
      .arg(c.meanNllCommon, 0, 'f', 3);
}

void EvalPerplexityView::setData(const EvalData& data) {
  plot_->clearGraphs();
  for (size_t i = 0; i < data.curves.size(); ++i) {
    const PerplexityCurveData& c = data.curves[i];
    QCPGraph* g = plot_->addGraph();
    g->setName(curveName(c));
    g->setPen(QPen(settingColour(int(i)), 1.5));
    QVector<double> x, y;
    for (size_t p = 0; p < c.nll.size(); ++p) {
      x.push_back(double(c.firstPosition + qint64(p)));
      y.push_back(c.nll[p]);
    }
    g->setData(x, y, /*alreadySorted=*/true);
  }
  const int last = data.tokens - 1;
  title_->setText(data.curves.empty() ? QString()
                                      : tr("means over positions %1-%2, which every curve covers")
                                            .arg(data.commonFrom)
                                            .arg(last));
  plot_->rescaleAxes();
  plot_->yAxis->setRangeLower(0);
  plot_->replot();
}

}  // namespace kvs::ui
