#include "eval_panel.h"

#include "util/error.h"

#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStackedWidget>
#include <QTabWidget>
#include <QThreadPool>
#include <QVBoxLayout>

#include "eval_longbench_view.h"
#include "eval_needle_view.h"
#include "eval_perplexity_view.h"
#include "eval_run_form.h"
#include "export_menu.h"
#include "parameters_panel.h"
#include "session_controller.h"

namespace kvs::ui {
namespace {

const char* const kLastResultsKey = "evaluation/lastResults";
const QString kLongBenchFigure = QStringLiteral("eval-longbench");
const QString kNeedleFigure = QStringLiteral("eval-needle");
const QString kPerplexityFigure = QStringLiteral("eval-perplexity");

QString messageOf(const std::exception& e) {
  if (dynamic_cast<const KvsError*>(&e)) return QString::fromStdString(e.what());
  return QObject::tr("cannot read the results: %1").arg(e.what());
}

}  // namespace

EvalPanel::EvalPanel(QWidget* parent) : QWidget(parent) {
  qRegisterMetaType<EvalRunRequest>();
  qRegisterMetaType<EvalRunStatus>();
  auto* open = new QPushButton(tr("Open results..."), this);
  open->setObjectName("evalOpen");
  open->setToolTip(
      tr("A results file: LongBench or needle records (.jsonl), `eval perplexity "
         "--out` JSON, or their HDF5 group"));
  auto* exportButton = new QPushButton(tr("Export..."), this);
  exportButton->setObjectName("evalExport");
  source_ = new QLabel(tr("Open a results file, or run an evaluation on the Run tab."), this);
  source_->setObjectName("evalSource");
  source_->setWordWrap(true);
  source_->setMinimumWidth(60);

  emptyPage_ = new QLabel(tr("No results shown yet."), this);
  longBench_ = new EvalLongBenchView(this);
  needle_ = new EvalNeedleView(this);
  perplexity_ = new EvalPerplexityView(this);
  views_ = new QStackedWidget(this);
  views_->setObjectName("evalViews");
  for (QWidget* page : {emptyPage_, static_cast<QWidget*>(longBench_),
                        static_cast<QWidget*>(needle_), static_cast<QWidget*>(perplexity_)}) {
    views_->addWidget(page);
  }
  auto* results = new QWidget(this);
  auto* top = new QHBoxLayout;
  top->addWidget(open);
  top->addWidget(exportButton);
  top->addWidget(source_, 1);
  auto* resultsLayout = new QVBoxLayout(results);
  resultsLayout->setContentsMargins(2, 2, 2, 2);
  resultsLayout->addLayout(top);
  resultsLayout->addWidget(views_, 1);

  form_ = new EvalRunForm(this);
  // The form is taller than a short dock: it scrolls.
  auto* formScroll = new QScrollArea(this);
  formScroll->setWidget(form_);
  formScroll->setWidgetResizable(true);
  formScroll->setFrameShape(QFrame::NoFrame);

  tabs_ = new QTabWidget(this);
  tabs_->setObjectName("evalTabs");
  tabs_->addTab(results, tr("Results"));
  tabs_->addTab(formScroll, tr("Run"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(tabs_);

  connect(open, &QPushButton::clicked, this, &EvalPanel::chooseResults);
  connect(exportButton, &QPushButton::clicked, this,
          [this] { Q_EMIT exportRequested(figureOfKind()); });
  connect(form_, &EvalRunForm::startRequested, this, &EvalPanel::startRun);
  connect(form_, &EvalRunForm::stopRequested, this, &EvalPanel::stopRun);
  connect(longBench_, &EvalLongBenchView::settingChosen, this, &EvalPanel::settingChosen);
  connect(longBench_, &EvalLongBenchView::sampleChosen, this, &EvalPanel::sampleChosen);
}

EvalPanel::~EvalPanel() {
  form_->saveSettings();
}

void EvalPanel::wire(SessionController* controller, ExportMenu* exportMenu,
                     ParametersPanel* parameters) {
  connect(this, &EvalPanel::runRequested, controller, &SessionController::requestEvaluation);
  connect(this, &EvalPanel::stopRequested, controller, &SessionController::stopEvaluation);
  connect(controller, &SessionController::evaluationProgress, this, &EvalPanel::setStatus);
  if (parameters) connect(this, &EvalPanel::settingChosen, parameters, &ParametersPanel::setParams);
  if (!exportMenu) return;
  exportMenu->addView(this);
  connect(this, &EvalPanel::exportRequested, exportMenu,
          [exportMenu](const QString& figure) { exportMenu->trigger(figure); });
}

bool EvalPanel::running() const {
  return form_->running();
}

QVector<ExportFigure> EvalPanel::exportFigures() const {
  return {{kLongBenchFigure, tr("Export LongBench &bars..."), longBench_->plot(),
           QStringLiteral("exportEvalLongBench")},
          {kNeedleFigure, tr("Export &needle heatmaps..."), needle_->plot(),
           QStringLiteral("exportEvalNeedle"), QKeySequence(), QSizeF(7.0, 2.6)},
          {kPerplexityFigure, tr("Export perple&xity curves..."), perplexity_->plot(),
           QStringLiteral("exportEvalPerplexity")}};
}

QString EvalPanel::figureOfKind() const {
  if (data_.kind == "needle") return kNeedleFigure;
  if (data_.kind == "perplexity") return kPerplexityFigure;
  return kLongBenchFigure;
}

QString EvalPanel::csv() const {
  return figureCsv(figureOfKind())();
}

CsvMaker EvalPanel::figureCsv(const QString& figure) const {
  // Copies: the CSV is made on another thread.
  if (figure == kNeedleFigure) return [grid = data_.needleGrid] { return needleCsv(grid); };
  if (figure == kPerplexityFigure) {
    return [curves = data_.curves] { return perplexityCsv(curves); };
  }
  return [table = data_.table] { return longBenchCsv(table); };
}

QJsonObject EvalPanel::viewJson() const {
  QJsonArray settings;
  if (data_.kind == "needle") {
    for (const auto& p : data_.needleRun.settings) {
      settings.append(QString::fromStdString(variantName(p)));
    }
  }
  QJsonObject view{{"view", "evaluation"},
                   {"kind", data_.kind},
                   {"results_file", data_.path},
                   {"model", data_.model},
                   {"records", qint64(data_.records.size())}};
  if (data_.kind == "needle") {
    view["needle_value"] = EvalNeedleView::valueName(needle_->value());
    view["needle_settings"] = settings;
    view["haystack"] = QString::fromStdString(data_.needleRun.haystackName);
  }
  if (data_.kind == "perplexity") view["tokens"] = data_.tokens;
  return view;
}

void EvalPanel::chooseResults() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open evaluation results"), QSettings().value(kLastResultsKey).toString(),
      tr("Evaluation results (*.jsonl *.json *.h5 *.hdf5);;All files (*)"));
  if (!path.isEmpty()) openResults(path);
}

void EvalPanel::openResults(const QString& path) {
  QSettings().setValue(kLastResultsKey, path);
  loading_ = true;
  source_->setText(tr("Reading %1...").arg(QFileInfo(path).fileName()));
  // An HDF5 file or a long run's records take a while to parse: not on the GUI thread.
  QPointer<EvalPanel> self(this);
  const quint64 load = ++loads_;
  QThreadPool::globalInstance()->start([self, path, load] {
    std::shared_ptr<EvalData> data;
    QString error;
    try {
      data = std::make_shared<EvalData>(loadEvalFile(path));
    } catch (const std::exception& e) {
      error = messageOf(e);
    }
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, data, error, path, load] {
          if (!self || load != self->loads_) return;
          self->loading_ = false;
          if (!data) {
            self->source_->setText(tr("Cannot open %1: %2").arg(path, error));
            Q_EMIT self->openFailed(error);
            return;
          }
          self->showData(*data);
          self->tabs_->setCurrentIndex(0);
          Q_EMIT self->opened(path);
        },
        Qt::QueuedConnection);
  });
}

void EvalPanel::showData(const EvalData& data) {
  data_ = data;
  if (data_.kind == "longbench") {
    longBench_->setData(data_);
    views_->setCurrentWidget(longBench_);
  } else if (data_.kind == "needle") {
    needle_->setData(data_);
    views_->setCurrentWidget(needle_);
  } else if (data_.kind == "perplexity") {
    perplexity_->setData(data_);
    views_->setCurrentWidget(perplexity_);
  } else {
    views_->setCurrentWidget(emptyPage_);
  }
  const QString what =
      data_.kind == "perplexity"
          ? tr("%1 curves over %2 tokens").arg(data_.curves.size()).arg(data_.tokens)
          : tr("%1 records").arg(data_.records.size());
  source_->setText(tr("%1 of %2 from %3: %4")
                       .arg(data_.kind,
                            data_.model.isEmpty() ? tr("an unnamed model") : data_.model,
                            QFileInfo(data_.path).fileName(), what));
  source_->setToolTip(data_.path);
}

void EvalPanel::startRun() {
  QString error;
  EvalRunRequest r = form_->request(&error);
  if (!error.isEmpty()) {
    form_->showMessage(error);
    return;
  }
  r.model = modelPath_;
  form_->saveSettings();
  form_->setRunning(true);
  form_->showMessage(tr("Starting; a Run or Compare waits until the evaluation ends."));
  status_ = EvalRunStatus{};
  runRecords_.clear();
  Q_EMIT runRequested(r);
}

void EvalPanel::stopRun() {
  if (!form_->running()) return;
  form_->showMessage(tr("Stopping after the record being written..."));
  Q_EMIT stopRequested();
}

void EvalPanel::setStatus(const EvalRunStatus& status) {
  status_ = status;
  form_->showStatus(status);
  if (status.recordsFrom == 0) {
    runRecords_ = status.records;
  } else if (status.recordsFrom == int(runRecords_.size())) {
    runRecords_.insert(runRecords_.end(), status.records.begin(), status.records.end());
  } else {
    return;  // not the continuation of what arrived (cannot happen: statuses arrive in order)
  }
  if (status.records.empty() || runRecords_.empty()) return;
  try {
    EvalData data = evalDataOf(status.kind, modelPath_, runRecords_);
    data.path = status.outPath;
    showData(data);
  } catch (const std::exception& e) {
    source_->setText(tr("The run's records cannot be shown: %1").arg(messageOf(e)));
  }
}

}  // namespace kvs::ui
