#include "overview_panel.h"

#include <cmath>

#include <QLabel>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>
#include "qcustomplot_include.h"

#include "export_menu.h"
#include "heatmap_panel.h"
#include "session_controller.h"
#include "thumbnail_grid.h"

namespace kvs::ui {

OverviewPanel::OverviewPanel(QWidget* parent) : QWidget(parent) {
  grid_ = new ThumbnailGrid(this);
  grid_->setObjectName("thumbnails");
  curves_ = new QCustomPlot(this);
  curves_->setObjectName("adjacentCurves");
  curves_->xAxis->setLabel(tr("token i"));
  curves_->yAxis->setLabel(tr("cos(K[i], K[i+1])"));
  curves_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  eps_ = new QCPItemStraightLine(curves_);
  eps_->setPen(QPen(QColor(230, 30, 30), 1.5, Qt::DashLine));
  epsFound_ = new QLabel(this);
  epsFound_->setObjectName("epsFound");
  epsFound_->setWordWrap(true);
  epsFound_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // never widens
  epsFound_->setVisible(false);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(grid_);
  split->addWidget(curves_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);
  layout->addWidget(epsFound_);
  connect(grid_, &ThumbnailGrid::clicked, this, &OverviewPanel::headClicked);
}

void OverviewPanel::setOverview(const OverviewData& data) {
  data_ = data;
  grid_->setData(data, colourMap_);
  redrawCurves();
}

void OverviewPanel::setLayout(const LayoutResult& result) {
  layout_ = result;
  redrawCurves();
}

void OverviewPanel::setSelection(int layer, int head) {
  layer_ = layer;
  head_ = head;
  grid_->setSelected(layer, head);
  redrawCurves();
}

double OverviewPanel::epsLine() const {
  return eps_->point1->value();
}

QString OverviewPanel::epsFoundText() const {
  const auto& l = layout_.layout.heads;
  if (!layout_.params.exactBudget || layout_.params.method != "kvmerger" || layer_ < 0 ||
      layer_ >= static_cast<int>(l.size()) || l[layer_].empty()) {
    return {};
  }
  QStringList values;
  for (const auto& head : l[layer_]) {
    values << (std::isnan(head.eps) ? QStringLiteral("-") : QString::number(head.eps, 'f', 3));
  }
  return tr("eps searched per head, layer %1: %2")
      .arg(layer_)
      .arg(values.join(QStringLiteral(" ")));
}

void OverviewPanel::redrawCurves() {
  curves_->clearGraphs();
  if (layer_ < 0 || layer_ >= static_cast<int>(data_.adjacentCos.size())) {
    curves_->replot();
    return;
  }
  const auto& heads = data_.adjacentCos[layer_];
  // The heatmap's head may be a query head (attention); curves are per KV head.
  const int group =
      data_.heads > 0 && !heads.empty() ? std::max<int>(1, data_.heads / heads.size()) : 1;
  const int kvHead = data_.source == 3 && head_ >= 0 ? head_ / group : head_;
  for (size_t h = 0; h < heads.size(); ++h) {
    QCPGraph* g = curves_->addGraph();
    QVector<double> x, y;
    for (size_t i = 0; i < heads[h].size(); ++i) {
      x.push_back(i);
      y.push_back(heads[h][i]);
    }
    g->setData(x, y, true);
    const bool selected = static_cast<int>(h) == kvHead;
    g->setPen(QPen(selected ? QColor(33, 100, 140) : QColor(150, 150, 150, 120), selected ? 2 : 1));
    g->setName(tr("head %1").arg(h));
  }
  // The threshold: the one given, or for exact budgets the one searched for this head.
  double eps = layout_.params.eps;
  const auto& l = layout_.layout.heads;
  if (layout_.params.exactBudget && layer_ < static_cast<int>(l.size()) && !l[layer_].empty()) {
    eps = l[layer_][std::max(0, kvHead)].eps;
  }
  eps_->point1->setCoords(0, eps);
  eps_->point2->setCoords(1, eps);
  eps_->setVisible(layout_.params.method == "kvmerger" && !std::isnan(eps));  // NaN: skipped
  const QString found = epsFoundText();
  epsFound_->setText(found);
  epsFound_->setVisible(!found.isEmpty());
  curves_->rescaleAxes();
  curves_->yAxis->setRange(std::min(-0.05, curves_->yAxis->range().lower), 1.02);
  curves_->replot();
}

void OverviewPanel::wire(SessionController* c, ExportMenu* exportMenu, HeatmapPanel* heatmap) {
  constexpr int kThumbnailTokens = 48;  // each thumbnail's side, in tokens
  connect(c, &SessionController::overviewReady, this, &OverviewPanel::setOverview);
  connect(c, &SessionController::layoutReady, this, &OverviewPanel::setLayout);
  connect(this, &OverviewPanel::headClicked, heatmap, &HeatmapPanel::select);
  connect(heatmap, &HeatmapPanel::selectionChanged, this, &OverviewPanel::setSelection);
  // By the prompt's ticket, not a reset on promptReady: the heatmap asks for its matrix from its
  // own promptReady slot, whichever order the two were connected in.
  connect(heatmap, &HeatmapPanel::matrixRequested, this, [this, c](int source) {
    const quint64 prompt = c->prompt().ticket;
    if (source == requestedSource_ && prompt == requestedPrompt_) return;
    requestedSource_ = source;
    requestedPrompt_ = prompt;
    c->requestOverview(source, kThumbnailTokens);
  });
  if (exportMenu) exportMenu->addView(this);
}

QVector<ExportFigure> OverviewPanel::exportFigures() const {
  return {{QStringLiteral("adjacent"), tr("Export &adjacent similarity..."), curves_}};
}

QJsonObject OverviewPanel::viewJson() const {
  return QJsonObject{{"view", "adjacent"}, {"layer", layer_}, {"head", head_}, {"eps", epsLine()}};
}

QString OverviewPanel::csv() const {
  QString out;
  QTextStream s(&out);
  if (layer_ < 0 || layer_ >= static_cast<int>(data_.adjacentCos.size())) return out;
  const auto& heads = data_.adjacentCos[layer_];
  s << "i";
  for (size_t h = 0; h < heads.size(); ++h) s << ",head" << h;
  s << '\n';
  const size_t n = heads.empty() ? 0 : heads[0].size();
  for (size_t i = 0; i < n; ++i) {
    s << i;
    for (const auto& c : heads) s << ',' << c[i];
    s << '\n';
  }
  return out;
}

}  // namespace kvs::ui
