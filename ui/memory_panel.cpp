#include "memory_panel.h"

#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QTextStream>
#include <QVBoxLayout>
#include "qcustomplot_include.h"

#include "empty_state.h"
#include "export_menu.h"
#include "figure_decoration.h"
#include "session_controller.h"

namespace kvs::ui {
namespace {

constexpr double kKiB = 1024.0;

QCPBars* bars(QCustomPlot* plot, const QString& name, const QColor& colour) {
  auto* b = new QCPBars(plot->xAxis, plot->yAxis);
  b->setName(name);
  b->setPen(Qt::NoPen);
  b->setBrush(colour);
  b->setWidth(0.4);
  return b;
}

}  // namespace

MemoryPanel::MemoryPanel(QWidget* parent) : QWidget(parent) {
  layers_ = new QCustomPlot(this);
  layers_->setObjectName("memoryLayers");
  layers_->xAxis->setLabel(tr("layer"));
  layers_->yAxis->setLabel(tr("KiB per layer"));
  full_ = bars(layers_, tr("full cache"), QColor(160, 160, 160));
  compressed_ = bars(layers_, tr("compressed"), QColor(33, 145, 140));
  auto* group = new QCPBarsGroup(layers_);
  full_->setBarsGroup(group);
  compressed_->setBarsGroup(group);
  layers_->legend->setVisible(true);
  layers_->xAxis->setTicker(QSharedPointer<QCPAxisTickerFixed>(new QCPAxisTickerFixed));

  steps_ = new QCustomPlot(this);
  steps_->setObjectName("memorySteps");
  steps_->xAxis->setLabel(tr("decode step"));
  steps_->yAxis->setLabel(tr("KiB in all"));
  stepsFull_ = steps_->addGraph();
  stepsFull_->setName(tr("full cache"));
  stepsFull_->setPen(QPen(QColor(160, 160, 160), 2));
  stepsCompressed_ = steps_->addGraph();
  stepsCompressed_->setName(tr("compressed"));
  stepsCompressed_->setPen(QPen(QColor(33, 145, 140), 2));
  steps_->legend->setVisible(true);
  steps_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

  layersEmpty_ = new EmptyState(layers_, tr("Run a prompt to see the KV cache's bytes per layer."));
  stepsEmpty_ = new EmptyState(steps_, tr("Run a prompt to see the KV cache's bytes per step."));

  process_ = new QLabel(this);
  process_->setObjectName("processMemory");
  process_->setWordWrap(true);  // a long line would widen the dock's column
  window_ = new QLabel(this);
  window_->setObjectName("windowMemory");
  window_->setWordWrap(true);
  window_->setVisible(false);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(layers_, 1);
  layout->addWidget(steps_, 1);
  layout->addWidget(process_);
  layout->addWidget(window_);
}

QString MemoryPanel::windowText() const {
  const WindowFigures& w = shown_.window;
  if (w.window <= 0) return {};
  const QLocale locale;
  if (!w.trimmed) {
    return tr("Sliding window %1: every slot kept behind the mask (window cache: keep), at most "
              "%2 slots per head now.")
        .arg(locale.toString(w.window))
        .arg(locale.toString(w.maxHeadSlots));
  }
  return tr("Sliding window %1: %2 slots dropped, %3 saved; the cache holds \u2264 %4 slots per "
            "head (at most %5 now).")
      .arg(locale.toString(w.window))
      .arg(locale.toString(qlonglong(w.droppedSlots)))
      .arg(locale.formattedDataSize(w.droppedBytes))
      .arg(locale.toString(w.boundHeadSlots))
      .arg(locale.toString(w.maxHeadSlots));
}

void MemoryPanel::setVariant(const VariantSummary& s) {
  shown_ = s;
  layersEmpty_->setText(
      tr("No per-layer bytes for this variant (a recording holds its totals only)."));
  layersEmpty_->setVisible(s.layerBytes.isEmpty());
  stepsEmpty_->setVisible(s.bytesPerStep.isEmpty());
  QVector<double> x, full, compressed;
  for (int l = 0; l < s.layerBytes.size(); ++l) {
    x.push_back(l);
    full.push_back(s.layerFullBytes.value(l) / kKiB);
    compressed.push_back(s.layerBytes[l] / kKiB);
  }
  full_->setData(x, full, true);
  compressed_->setData(x, compressed, true);
  layers_->rescaleAxes();
  layers_->xAxis->setRange(-0.7, std::max(0.7, x.size() - 0.3));
  layers_->yAxis->setRange(0, layers_->yAxis->range().upper * 1.08);  // room above the bars
  layers_->replot();

  QVector<double> t, totalFull, total;
  for (int i = 0; i < s.bytesPerStep.size(); ++i) {
    t.push_back(i);
    total.push_back(s.bytesPerStep[i] / kKiB);
    totalFull.push_back(s.fullBytesPerStep.value(i) / kKiB);
  }
  stepsFull_->setData(t, totalFull, true);
  stepsCompressed_->setData(t, total, true);
  steps_->rescaleAxes();
  steps_->yAxis->setRange(0, steps_->yAxis->range().upper * 1.08);
  steps_->replot();

  const QLocale locale;
  process_->setText(tr("KV cache %1 of %2 bytes (%3% of the slots) after compression; process "
                       "resident memory %4")
                        .arg(locale.toString(s.bytesPerStep.value(0)))
                        .arg(locale.toString(s.fullBytesPerStep.value(0)))
                        .arg(s.achievedRatio * 100, 0, 'f', 1)
                        .arg(locale.formattedDataSize(s.processBytes)));
  window_->setText(windowText());
  window_->setVisible(s.window.window > 0);
}

void MemoryPanel::wire(SessionController* controller, ExportMenu* exportMenu) {
  connect(controller, &SessionController::variantReady, this, &MemoryPanel::setVariant);
  if (exportMenu) exportMenu->addView(this);
}

QVector<ExportFigure> MemoryPanel::exportFigures() const {
  return {{QStringLiteral("memory-layers"), tr("Export memory per &layer..."), layers_},
          {QStringLiteral("memory-steps"), tr("Export memory over &steps..."), steps_}};
}

QString MemoryPanel::csv() const {
  QString out;
  QTextStream st(&out);
  st << "series,index,compressed_bytes,full_bytes\n";
  for (int l = 0; l < shown_.layerBytes.size(); ++l) {
    st << "layer," << l << ',' << shown_.layerBytes[l] << ',' << shown_.layerFullBytes.value(l)
       << '\n';
  }
  for (int i = 0; i < shown_.bytesPerStep.size(); ++i) {
    st << "step," << i << ',' << shown_.bytesPerStep[i] << ',' << shown_.fullBytesPerStep.value(i)
       << '\n';
  }
  return out;
}

std::unique_ptr<ExportDecoration> MemoryPanel::decorate(const QString& figure,
                                                        const ExportRequest& r) {
  if (!r.title) return nullptr;
  const bool layers = figure == QStringLiteral("memory-layers");
  auto d = std::make_unique<FigureDecoration>(layers ? layers_ : steps_);
  const QString variant = QString::fromStdString(variantName(shown_.params));
  d->addTitle(layers ? tr("KV cache per layer after compression: %1").arg(variant)
                     : tr("KV cache over the decode steps: %1").arg(variant));
  return d;
}

QJsonObject MemoryPanel::viewJson() const {
  QJsonObject o;
  o["view"] = "memory";
  // The variant whose bytes are shown (the Parameters setting of its run).
  o["variant"] = QString::fromStdString(variantName(shown_.params));
  o["variant_params"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(kvs::toJson(shown_.params).dump()))
          .object();
  o["achieved_ratio"] = shown_.achievedRatio;
  o["process_resident_bytes"] = double(shown_.processBytes);
  if (shown_.window.window > 0) {  // Mistral's sliding window and what it dropped
    o["sliding_window"] = shown_.window.window;
    o["window_cache"] = shown_.window.trimmed ? "trim" : "keep";
    o["window_dropped_slots"] = double(shown_.window.droppedSlots);
    o["window_dropped_bytes"] = double(shown_.window.droppedBytes);
  }
  return o;
}

}  // namespace kvs::ui
