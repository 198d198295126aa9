#include "layer_ratio_panel.h"

#include "analysis/layer_ratios.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include "qcustomplot_include.h"

#include "export_menu.h"
#include "parameters_panel.h"
#include "session_controller.h"

namespace kvs::ui {
namespace {

const char* kPromptsKey = "layerRatio/promptsFile";

QVector<double> layersUpTo(size_t n) {
  QVector<double> x;
  for (size_t l = 0; l < n; ++l) x.push_back(double(l));
  return x;
}

QVector<double> toQ(const std::vector<double>& v) {
  return QVector<double>(v.begin(), v.end());
}

QCPGraph* addGraph(QCustomPlot* plot, const QString& name, const QColor& colour,
                   QCPScatterStyle::ScatterShape shape, Qt::PenStyle style = Qt::SolidLine) {
  QCPGraph* g = plot->addGraph();
  g->setName(name);
  g->setPen(QPen(colour, 2, style));
  g->setScatterStyle(QCPScatterStyle(shape, 7));
  return g;
}

QString stateName(LayerRatioResult::State s) {
  switch (s) {
    case LayerRatioResult::State::kRunning:
      return QStringLiteral("running");
    case LayerRatioResult::State::kDone:
      return QStringLiteral("done");
    case LayerRatioResult::State::kStopped:
      return QStringLiteral("stopped");
    case LayerRatioResult::State::kFailed:
      return QStringLiteral("failed");
  }
  return {};
}

// An empty cell where a series has no value for the layer (no prompt run, no batch yet). The
// CSV keeps 6 significant digits, as the CLI writes; the table 4 decimals, to stay narrow.
QString cell(const std::vector<double>& v, size_t i, bool narrow = false) {
  if (i >= v.size()) return {};
  return narrow ? QString::number(v[i], 'f', 4) : QString::number(v[i], 'g', 6);
}

}  // namespace

LayerRatioPanel::LayerRatioPanel(QWidget* parent) : QWidget(parent) {
  qRegisterMetaType<LayerRatioRequest>();
  qRegisterMetaType<LayerRatioResult>();
  plot_ = new QCustomPlot(this);
  plot_->setObjectName("layerRatioPlot");
  plot_->xAxis->setLabel(tr("layer"));
  plot_->yAxis->setLabel(tr("compression ratio (1 - slots / T)"));
  QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  plot_->xAxis->setTicker(ticker);
  // The batch's min-max band first, so the curves are drawn over it.
  minGraph_ = addGraph(plot_, tr("batch min"), QColor(214, 39, 40, 90), QCPScatterStyle::ssNone);
  maxGraph_ =
      addGraph(plot_, tr("batch min-max"), QColor(214, 39, 40, 90), QCPScatterStyle::ssNone);
  maxGraph_->setBrush(QColor(214, 39, 40, 45));
  maxGraph_->setChannelFillGraph(minGraph_);
  minGraph_->removeFromLegend();
  meanGraph_ =
      addGraph(plot_, tr("batch mean \u00b1 std"), QColor(214, 39, 40), QCPScatterStyle::ssDisc);
  errorBars_ = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
  errorBars_->setDataPlottable(meanGraph_);
  errorBars_->setPen(QPen(QColor(214, 39, 40), 1.5));
  errorBars_->removeFromLegend();
  currentGraph_ =
      addGraph(plot_, tr("current prompt"), QColor(31, 119, 180), QCPScatterStyle::ssCircle);
  settingGraph_ = addGraph(plot_, tr("this setting"), QColor(110, 110, 110),
                           QCPScatterStyle::ssNone, Qt::DashLine);
  plot_->legend->setVisible(true);
  plot_->yAxis->setRange(0, 1.05);

  batchButton_ = new QPushButton(tr("Batch from prompts file..."), this);
  batchButton_->setObjectName("batchButton");
  stopButton_ = new QPushButton(tr("Stop"), this);
  stopButton_->setObjectName("batchStop");
  stopButton_->setEnabled(false);
  auto* exportButton = new QPushButton(tr("Export..."), this);
  exportButton->setObjectName("layerRatioExport");
  progress_ = new QProgressBar(this);
  progress_->setObjectName("batchProgress");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  status_ = new QLabel(tr("Run a prompt, or run a batch of prompts"), this);
  status_->setObjectName("batchStatus");
  status_->setWordWrap(true);
  table_ = new QTableWidget(0, 7, this);
  table_->setObjectName("layerRatioTable");
  table_->setHorizontalHeaderLabels(
      {tr("layer"), tr("current"), tr("setting"), tr("mean"), tr("std"), tr("min"), tr("max")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);

  // The progress bar beside the status rather than among the buttons: the panel then fits the
  // middle column of a laptop's screen.
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(batchButton_);
  buttons->addWidget(stopButton_);
  buttons->addStretch(1);
  buttons->addWidget(exportButton);
  auto* statusRow = new QHBoxLayout;
  statusRow->addWidget(status_, 2);
  statusRow->addWidget(progress_, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(plot_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buttons);
  layout->addLayout(statusRow);
  layout->addWidget(split, 1);
  connect(batchButton_, &QPushButton::clicked, this, &LayerRatioPanel::chooseFile);
  connect(stopButton_, &QPushButton::clicked, this, &LayerRatioPanel::stopBatch);
  connect(exportButton, &QPushButton::clicked, this, &LayerRatioPanel::exportRequested);
}

QString LayerRatioPanel::promptsFile() const {
  return QSettings().value(kPromptsKey, QStringLiteral(KVS_DEFAULT_PROMPTS)).toString();
}

kvs::MergeThresholds LayerRatioPanel::thresholds() const {
  return source_ ? thresholdsFor(source_()) : thresholds_;
}

LayerRatioRequest LayerRatioPanel::request() const {
  const MergeThresholds t = thresholds();
  LayerRatioRequest r;
  r.eps = t.eps;
  r.recent = t.recentRatio;
  r.protectedRatio = t.protectedRatio;
  return r;
}

void LayerRatioPanel::wire(SessionController* c, ExportMenu* exportMenu,
                           ParametersPanel* parameters) {
  connect(parameters, &ParametersPanel::paramsChanged, this, &LayerRatioPanel::setParams);
  setParamsSource([parameters] { return parameters->params(); });
  connect(c, &SessionController::promptReady, this, &LayerRatioPanel::setPrompt);
  connect(c, &SessionController::modelDropped, this, &LayerRatioPanel::dropPrompt);
  connect(c, &SessionController::layoutReady, this, &LayerRatioPanel::setLayout);
  connect(this, &LayerRatioPanel::ratiosRequested, c, &SessionController::requestLayerRatios);
  connect(this, &LayerRatioPanel::batchStopRequested, c, &SessionController::stopLayerRatios);
  connect(c, &SessionController::layerRatiosReady, this, &LayerRatioPanel::setResult);
  if (!exportMenu) return;
  exportMenu->addView(this);
  connect(this, &LayerRatioPanel::exportRequested, exportMenu,
          [exportMenu] { exportMenu->trigger(QStringLiteral("layer-ratio")); });
}

QVector<ExportFigure> LayerRatioPanel::exportFigures() const {
  return {{QStringLiteral("layer-ratio"), tr("Export layer &ratios..."), plot_,
           QStringLiteral("exportLayerRatios")}};
}

void LayerRatioPanel::setParams(const CompressionParams& params) {
  thresholds_ = thresholdsFor(params);
  requestCurrent();
}

void LayerRatioPanel::setPrompt(const PromptInfo& info) {
  hasPrompt_ = true;
  promptTokens_ = static_cast<int>(info.ids.size());
  current_.clear();
  redraw();
  requestCurrent();
}

void LayerRatioPanel::dropPrompt() {
  hasPrompt_ = false;
  current_.clear();
  setting_.clear();
  redraw();
}

void LayerRatioPanel::requestCurrent() {
  if (!hasPrompt_) return;
  Q_EMIT ratiosRequested(request());
}

void LayerRatioPanel::setLayout(const LayoutResult& result) {
  setting_.clear();
  const MergingLayout& m = result.layout;
  for (const auto& heads : m.heads) {
    double kept = 0;
    for (const HeadLayout& h : heads) kept += double(h.slots.size()) / m.tokens;
    setting_.push_back(heads.empty() ? 0.0 : 1.0 - kept / heads.size());
  }
  settingGraph_->setName(
      tr("this setting (%1)").arg(QString::fromStdString(variantName(result.params))));
  redraw();
}

void LayerRatioPanel::chooseFile() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Prompts file (one prompt per line)"), promptsFile(),
                                   tr("Text files (*.txt);;All files (*)"));
  if (!path.isEmpty()) startBatch(path);
}

void LayerRatioPanel::startBatch(const QString& path) {
  QSettings().setValue(kPromptsKey, path);
  LayerRatioRequest r = request();
  r.promptsFile = path;  // a batch: the controller cancels the running one
  running_ = true;
  batch_ = LayerRatioResult{};
  spread_ = LayerSpread{};
  progress_->setRange(0, 0);  // busy until the worker says how many prompts
  stopButton_->setEnabled(true);
  status_->setText(tr("Reading %1...").arg(QFileInfo(path).fileName()));
  redraw();
  Q_EMIT ratiosRequested(r);
}

void LayerRatioPanel::stopBatch() {
  if (!running_) return;
  Q_EMIT batchStopRequested();
  status_->setText(tr("Stopping..."));
}

void LayerRatioPanel::setResult(const LayerRatioResult& r) {
  if (!r.batch) {
    if (r.ratios.empty()) return;  // no prompt kept
    current_ = r.ratios.front();
    promptTokens_ = r.tokens.front();
    redraw();
    return;
  }
  batch_ = r;
  spread_ = r.ratios.empty() ? LayerSpread{} : summarizeLayers(r.ratios);
  running_ = r.state == LayerRatioResult::State::kRunning;
  progress_->setRange(0, std::max(1, r.total));
  progress_->setValue(r.done);
  stopButton_->setEnabled(running_);
  const QString thresholds =
      tr("eps %1, recent %2, protected %3").arg(r.eps).arg(r.recent).arg(r.protectedRatio);
  if (r.state == LayerRatioResult::State::kFailed) {
    status_->setText(tr("Batch failed: %1").arg(r.error));
  } else {
    status_->setText(tr("%1: %2 of %3 prompts (%4) in %5 s; %6")
                         .arg(QFileInfo(r.promptsFile).fileName())
                         .arg(r.done)
                         .arg(r.total)
                         .arg(stateName(r.state))
                         .arg(r.seconds, 0, 'f', 2)
                         .arg(thresholds));
  }
  redraw();
}

void LayerRatioPanel::redraw() {
  currentGraph_->setData(layersUpTo(current_.size()), toQ(current_));
  settingGraph_->setData(layersUpTo(setting_.size()), toQ(setting_));
  const QVector<double> x = layersUpTo(spread_.mean.size());
  minGraph_->setData(x, toQ(spread_.min));
  maxGraph_->setData(x, toQ(spread_.max));
  meanGraph_->setData(x, toQ(spread_.mean));
  errorBars_->setData(toQ(spread_.stddev));
  const size_t L = std::max({current_.size(), setting_.size(), spread_.mean.size(), size_t(1)});
  plot_->xAxis->setRange(-0.5, double(L) - 0.5);
  plot_->replot();
  fillTable();
}

void LayerRatioPanel::fillTable() {
  const size_t L = std::max({current_.size(), setting_.size(), spread_.mean.size()});
  table_->setRowCount(static_cast<int>(L));
  for (size_t l = 0; l < L; ++l) {
    QStringList row = {QString::number(l)};
    for (const auto* v :
         {&current_, &setting_, &spread_.mean, &spread_.stddev, &spread_.min, &spread_.max}) {
      row << cell(*v, l, /*narrow=*/true);
    }
    for (int c = 0; c < row.size(); ++c) table_->setItem(int(l), c, new QTableWidgetItem(row[c]));
  }
}

QString LayerRatioPanel::csv() const {
  QString out = QStringLiteral("layer,current,setting,batch_mean,batch_std,batch_min,batch_max");
  for (int p = 0; p < int(batch_.ratios.size()); ++p)
    out += QStringLiteral(",prompt_%1").arg(p + 1);
  out += '\n';
  const size_t L = std::max({current_.size(), setting_.size(), spread_.mean.size()});
  for (size_t l = 0; l < L; ++l) {
    out += QString::number(l);
    for (const auto* v :
         {&current_, &setting_, &spread_.mean, &spread_.stddev, &spread_.min, &spread_.max}) {
      out += ',' + cell(*v, l);
    }
    for (const auto& r : batch_.ratios) out += ',' + cell(r, l);
    out += '\n';
  }
  return out;
}

QJsonObject LayerRatioPanel::viewJson() const {
  QJsonObject batch{
      {"prompts_file", batch_.promptsFile}, {"prompts", batch_.done},   {"total", batch_.total},
      {"state", stateName(batch_.state)},   {"eps", batch_.eps},        {"recent", batch_.recent},
      {"protected", batch_.protectedRatio}, {"seconds", batch_.seconds}};
  QJsonArray tokens;
  for (int t : batch_.tokens) tokens.append(t);
  batch["tokens"] = tokens;
  const MergeThresholds t = thresholds();
  return QJsonObject{{"view", "layer-ratio"},
                     {"eps", t.eps},
                     {"recent", t.recentRatio},
                     {"protected", t.protectedRatio},
                     {"current_tokens", current_.empty() ? 0 : promptTokens_},
                     {"batch", batch_.ratios.empty() ? QJsonValue() : QJsonValue(batch)}};
}

}  // namespace kvs::ui
