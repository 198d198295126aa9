#include "heatmap_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>
#include "qcustomplot_include.h"

#include "colour_maps.h"
#include "empty_state.h"
#include "heatmap_cells.h"
#include "merging_sets_item.h"

namespace kvs::ui {
namespace {

// Pieces become tick labels when this few tokens are in view.
constexpr int kLabelTokens = 48;

}  // namespace

HeatmapPanel::HeatmapPanel(QWidget* parent) : QWidget(parent) {
  layer_ = new QSpinBox(this);
  layer_->setObjectName("heatmapLayer");
  layer_->setPrefix(tr("layer "));
  layer_->setRange(0, 0);
  head_ = new QComboBox(this);
  head_->setObjectName("heatmapHead");
  source_ = new QComboBox(this);
  source_->setObjectName("heatmapSource");
  // Indices follow kvs::SimilaritySource.
  source_->addItems(
      {tr("keys (after RoPE)"), tr("keys (before RoPE)"), tr("values"), tr("attention")});
  gradient_ = new QComboBox(this);
  gradient_->setObjectName("heatmapColours");
  gradient_->addItems(colourMapNames());
  showSets_ = new QCheckBox(tr("merging sets"), this);
  showSets_->setObjectName("showSets");
  showSets_->setChecked(true);
  auto* reset = new QPushButton(tr("Reset zoom"), this);
  reset->setObjectName("resetZoom");
  reset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  reset->setToolTip(tr("Show the whole matrix (Ctrl+0); drag to pan, wheel to zoom"));
  info_ = new QLabel(this);
  info_->setObjectName("heatmapInfo");
  decision_ = new QLabel(this);
  decision_->setObjectName("mergeDecision");
  // Wrapped rather than widening the window, and the combo boxes elide their entries when
  // narrower than them: the panel fits the middle of a 1366-pixel-wide screen.
  info_->setWordWrap(true);
  decision_->setWordWrap(true);
  decision_->setAlignment(Qt::AlignRight | Qt::AlignTop);
  for (QComboBox* box : {head_, source_, gradient_}) {
    box->setMinimumWidth(box->fontMetrics().horizontalAdvance(QStringLiteral("head 00")) + 32);
  }

  plot_ = new QCustomPlot(this);
  plot_->setObjectName("heatmapPlot");
  plot_->setMinimumSize(240, 200);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->setupFullAxesBox(true);
  plot_->xAxis->setLabel(tr("key token"));
  plot_->yAxis->setLabel(tr("query token"));
  plot_->yAxis->setRangeReversed(true);  // row 0 at the top, as a matrix is written
  for (QCPAxis* a : plot_->axisRect()->axes()) {
    a->setTickLength(0, 4);  // outside the matrix: inside, ticks would cover the edge cells
    a->setSubTickLength(0, 2);
  }
  map_ = new HeatmapCells(plot_->xAxis, plot_->yAxis);
  empty_ = new EmptyState(plot_, tr("Run a prompt to see how similar its tokens' keys are, "
                                    "per layer and head, with the merging sets drawn on them."));
  scale_ = new QCPColorScale(plot_);
  plot_->plotLayout()->addElement(0, 1, scale_);
  QFont small = font();
  small.setPointSizeF(font().pointSizeF() * 0.9);
  variantLabel_ = new QCPTextElement(plot_, QString(), small);
  variantLabel_->setObjectName("heatmapVariant");
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, variantLabel_);
  scale_->setType(QCPAxis::atRight);
  map_->setColorScale(scale_);
  auto* margins = new QCPMarginGroup(plot_);
  plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  overlay_ = new MergingSetsItem(plot_);
  setColourMapName(gradient_->currentText());

  auto* controls = new QHBoxLayout;
  for (QWidget* w :
       std::initializer_list<QWidget*>{layer_, head_, source_, gradient_, showSets_, reset}) {
    controls->addWidget(w);
  }
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls);
  layout->addWidget(plot_, 1);
  auto* status = new QHBoxLayout;
  status->addWidget(info_, 1);
  status->addWidget(decision_, 1);
  layout->addLayout(status);

  connect(layer_, &QSpinBox::valueChanged, this, &HeatmapPanel::requestMatrix);
  connect(head_, &QComboBox::currentIndexChanged, this, &HeatmapPanel::requestMatrix);
  connect(source_, &QComboBox::currentIndexChanged, this, [this] {
    fillHeads();
    requestMatrix();
  });
  connect(gradient_, &QComboBox::currentTextChanged, this, &HeatmapPanel::setColourMapName);
  connect(showSets_, &QCheckBox::toggled, this, &HeatmapPanel::updateOverlay);
  connect(reset, &QPushButton::clicked, this, &HeatmapPanel::resetView);
  // Cells are refilled for the view just before each frame, once per frame.
  connect(plot_, &QCustomPlot::beforeReplot, this, &HeatmapPanel::refreshCells);
  plot_->installEventFilter(this);  // tooltips: the cell under the mouse (heatmap_hover.cpp)
  fillHeads();
}

QCPColorMap* HeatmapPanel::colourMap() const {
  return map_;
}

int HeatmapPanel::layer() const {
  return layer_->value();
}

int HeatmapPanel::head() const {
  return head_->currentIndex() - 1;
}

int HeatmapPanel::source() const {
  return source_->currentIndex();
}

QString HeatmapPanel::colourMapName() const {
  return gradient_->currentText();
}

void HeatmapPanel::fillHeads() {
  const bool attention = source() == static_cast<int>(SimilaritySource::kAttention);
  const int heads = attention ? prompt_.queryHeads : prompt_.kvHeads;
  const int keep = head_->currentIndex();
  const QSignalBlocker block(head_);
  head_->clear();
  head_->addItem(tr("mean over heads"));
  for (int h = 0; h < heads; ++h) head_->addItem(tr("head %1").arg(h));
  head_->setCurrentIndex(keep >= 0 && keep < head_->count() ? keep : 0);
}

void HeatmapPanel::setPrompt(const PromptInfo& info) {
  const bool first = prompt_.layers == 0;
  prompt_ = info;
  layout_ = {};
  {
    const QSignalBlocker block(layer_);
    layer_->setRange(0, std::max(0, info.layers - 1));
  }
  fillHeads();
  if (first) {
    const QSignalBlocker block(head_);
    head_->setCurrentIndex(std::min(1, head_->count() - 1));  // head 0: its sets can be drawn
  }
  overlay_->setHead({}, 0);
  empty_->setText(tr("Computing the matrix of the new prompt..."));
  empty_->show();
  resetView();
  requestMatrix();
}

void HeatmapPanel::select(int layer, int head) {
  const QSignalBlocker a(layer_), b(head_);
  layer_->setValue(layer);
  head_->setCurrentIndex(head + 1);
  requestMatrix();
}

void HeatmapPanel::requestMatrix() {
  updateOverlay();
  Q_EMIT selectionChanged(layer(), head());
  if (prompt_.layers > 0) Q_EMIT matrixRequested(source(), layer(), head());
}

void HeatmapPanel::setMatrix(const SimilarityResult& result) {
  const SimilarityMatrix& m = result.matrix;
  if (m.layer != layer() || m.head != head() || static_cast<int>(m.source) != source()) return;
  shown_ = {m.source, m.layer, m.head, m.tokens, {}};
  scale_->axis()->setLabel(m.source == SimilaritySource::kAttention ? tr("attention probability")
                                                                    : tr("cosine similarity"));
  pyramid_.set(m.values, m.tokens);
  // A constant matrix (one token) still gets a readable scale.
  const double lo = pyramid_.min(), hi = pyramid_.max();
  map_->setDataRange(hi - lo < 1e-3 ? QCPRange(lo - 0.5, hi + 0.5) : QCPRange(lo, hi));
  info_->setText(tr("%1 tokens, range %2 .. %3, computed in %4 ms")
                     .arg(m.tokens)
                     .arg(pyramid_.min(), 0, 'f', 3)
                     .arg(pyramid_.max(), 0, 'f', 3)
                     .arg(result.ms, 0, 'f', 1));
  std::fill(std::begin(cellsFor_), std::end(cellsFor_), 0.0);
  empty_->hide();
  plot_->replot();
}

void HeatmapPanel::setLayout(const LayoutResult& result) {
  layout_ = result;
  updateOverlay();
}

void HeatmapPanel::updateOverlay() {
  const MergingLayout& l = layout_.layout;
  int h = head();
  if (h >= 0 && source() == static_cast<int>(SimilaritySource::kAttention) && prompt_.kvHeads > 0) {
    h /= prompt_.queryHeads / prompt_.kvHeads;  // the query head's KV head
  }
  // The mean over heads has one layout only when the layout is shared per layer.
  if (h < 0 && layout_.params.layout == MergeLayout::kSharedPerLayer) h = 0;
  const bool show = showSets_->isChecked() && h >= 0 && layer() < static_cast<int>(l.heads.size());
  overlay_->setHead(show ? l.heads[layer()][h] : HeadLayout{}, l.tokens);
  decision_->setText(decisionText(h));
  updateVariantLabel();
  plot_->replot();
}

QString HeatmapPanel::decisionText(int kvHead) const {
  const MergingLayout& l = layout_.layout;
  const CompressionParams& p = layout_.params;
  if (p.method != "kvmerger" || kvHead < 0 || layer() >= static_cast<int>(l.heads.size())) {
    return {};
  }
  const HeadLayout& head = l.heads[layer()][kvHead];
  if (std::isnan(head.eps)) return tr("layer kept full");
  QString text = p.exactBudget ? tr("eps used %1 (searched for the exact budget)")
                               : tr("eps %1 (approximate budget)");
  text = text.arg(head.eps, 0, 'f', 4);
  if (head.releasedProtected > 0) {
    text += tr("; %n protected token(s) released to fit", "", head.releasedProtected);
  }
  return text;
}

void HeatmapPanel::setColourMapName(const QString& name) {
  map_->setGradient(kvs::ui::colourMap(name));
  if (gradient_->currentText() != name) gradient_->setCurrentText(name);
  plot_->replot();
}

void HeatmapPanel::setView(double first, double last) {
  plot_->xAxis->setRange(first - 0.5, last + 0.5);
  plot_->yAxis->setRange(first - 0.5, last + 0.5);
  plot_->replot();
}

void HeatmapPanel::resetView() {
  setView(0, std::max(0, static_cast<int>(prompt_.ids.size()) - 1));
}

std::pair<int, int> HeatmapPanel::viewTokens(const QCPRange& range) const {
  // Token t spans t - 0.5 .. t + 0.5: every token partly in view counts.
  const int T = pyramid_.size();
  return {std::clamp(int(std::floor(range.lower + 0.5)), 0, T - 1),
          std::clamp(int(std::ceil(range.upper - 0.5)), 0, T - 1)};
}

void HeatmapPanel::refreshCells() {
  const QCPRange xr = plot_->xAxis->range(), yr = plot_->yAxis->range();
  updateTicks(std::max(xr.lower, yr.lower), std::min(xr.upper, yr.upper));
  const double view[4] = {xr.lower, xr.upper, yr.lower, yr.upper};
  if (pyramid_.empty() || std::equal(view, view + 4, cellsFor_)) return;
  std::copy(view, view + 4, cellsFor_);
  const int T = pyramid_.size();
  const auto [c0, c1] = viewTokens(xr);
  const auto [r0, r1] = viewTokens(yr);
  level_ = pyramid_.levelFor(std::max(c1 - c0 + 1, r1 - r0 + 1), kMaxCells);
  const int s = 1 << level_;
  const int k0 = c0 / s, k1 = c1 / s, v0 = r0 / s, v1 = r1 / s;
  const auto centre = [&](int cell) { return cell * s + (std::min(s, T - cell * s) - 1) / 2.0; };
  auto* data = map_->data();
  data->setSize(k1 - k0 + 1, v1 - v0 + 1);
  data->setRange(QCPRange(centre(k0), centre(k1)), QCPRange(centre(v0), centre(v1)));
  for (int v = v0; v <= v1; ++v) {
    for (int k = k0; k <= k1; ++k) data->setCell(k - k0, v - v0, pyramid_.at(level_, v, k));
  }
  // HeatmapCells draws each cell over its own tokens (the range above is only their centres).
  map_->setCells(k0 * s, v0 * s, s, T);
}

void HeatmapPanel::updateTicks(double lower, double upper) {
  const int n = static_cast<int>(prompt_.pieces.size());
  const bool labels = n > 0 && upper - lower <= kLabelTokens;
  if (!labels) {
    if (tickLabels_) {
      for (QCPAxis* a : {plot_->xAxis, plot_->yAxis}) {
        a->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        a->setTickLabelRotation(0);
      }
      tickLabels_ = false;
    }
    return;
  }
  // A piece every `every` tokens, so that the labels do not overlap on a short axis (a small
  // exported figure, a small dock).
  const double tokenPixels =
      std::abs(plot_->yAxis->coordToPixel(1) - plot_->yAxis->coordToPixel(0));
  const double labelPixels = QFontMetrics(plot_->yAxis->tickLabelFont()).height() * 1.1;
  const int every = std::max(1, int(std::ceil(labelPixels / std::max(tokenPixels, 1e-3))));
  QMap<double, QString> ticks;
  for (int t = std::max(0, int(std::ceil(lower))); t <= std::min(n - 1, int(upper)); ++t) {
    if (t % every == 0) ticks[t] = prompt_.pieces[t];
  }
  for (QCPAxis* a : {plot_->xAxis, plot_->yAxis}) {
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    ticker->setTicks(ticks);
    a->setTicker(ticker);
  }
  plot_->xAxis->setTickLabelRotation(90);
  tickLabels_ = true;
}

}  // namespace kvs::ui
