#include "sweep_panel.h"

#include "compress/compression_method.h"
#include "compress/param_spec.h"
#include "util/error.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTextEdit>
#include <QVBoxLayout>
#include <algorithm>
#include <fstream>
#include "qcustomplot_include.h"

#include "export_menu.h"
#include "parameters_panel.h"
#include "session_controller.h"
#include "sweep_plot.h"

namespace kvs::ui {
namespace {

// What the values field offers first for a parameter: the paper's figures where there is one
// (budgets 10-90%, the sigma ablation's six values), else its range in five points.
QString defaultValues(const ParamSpec& spec) {
  static const std::map<std::string, QString> known = {
      {"budget", "0.1:0.9:9"},   {"sigma", "1,2,3,5,7,10"},    {"eps", "0.5:0.95:10"},
      {"recent", "0.05:0.25:5"}, {"protected", "0.05:0.25:5"}, {"decode_chunk", "1,8,32,64"}};
  if (const auto it = known.find(spec.key); it != known.end()) return it->second;
  if (spec.kind == ParamKind::kSwitch) return QStringLiteral("false,true");
  if (spec.kind == ParamKind::kChoice) {
    QStringList names;
    for (const std::string& c : spec.choices) names << QString::fromStdString(c);
    return names.join(',');
  }
  return QStringLiteral("%1:%2:5").arg(spec.lo).arg(spec.hi);
}

bool reads(const CompressionMethod& m, const std::string& key) {
  const auto keys = m.parameterKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

QString bytesText(qint64 bytes) {
  return QLocale::c().toString(bytes);
}

}  // namespace

SweepPanel::SweepPanel(QWidget* parent) : QWidget(parent) {
  qRegisterMetaType<SweepRequest>();
  qRegisterMetaType<SweepStatus>();
  parameter_ = new QComboBox(this);
  parameter_->setObjectName("sweepParameter");
  for (const ParamSpec& s : allParams()) {
    if (s.kind == ParamKind::kWholeList || s.kind == ParamKind::kSeed) continue;
    parameter_->addItem(QString::fromStdString(s.key), QString::fromStdString(s.key));
    parameter_->setItemData(parameter_->count() - 1, QString::fromStdString(s.label),
                            Qt::ToolTipRole);
  }
  values_ = new QLineEdit(this);
  values_->setObjectName("sweepValues");
  values_->setToolTip(tr("FROM:TO:POINTS (both ends included) or V1,V2,..., as compare --sweep"));
  measure_ = new QComboBox(this);
  measure_->setObjectName("sweepMeasure");
  for (SweepMeasure m : sweepMeasures()) {
    measure_->addItem(QString::fromStdString(measureLabel(m)),
                      QString::fromStdString(measureKey(m)));
  }
  logY_ = new QCheckBox(tr("log y"), this);
  logY_->setObjectName("sweepLogY");
  logY_->setToolTip(tr("A logarithmic y axis: KL spans decades between budgets"));
  auto* methodGrid = new QGridLayout;
  methodGrid->setSpacing(2);
  for (const CompressionMethod* m : allMethods()) {
    if (!m->compresses()) continue;
    const QString name = QString::fromStdString(m->name());
    auto* box = new QCheckBox(name, this);
    box->setObjectName("sweepMethod_" + name);
    box->setChecked(true);
    const int placed = methods_.size();  // two columns, in the registry's order
    methodGrid->addWidget(box, placed / 2, placed % 2);
    methods_.insert(name, box);
  }
  run_ = new QPushButton(tr("Sweep"), this);
  run_->setObjectName("sweepRun");
  run_->setToolTip(tr("Every ticked method at every value, from the kept prefill"));
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("sweepStop");
  stop_->setEnabled(false);
  auto* open = new QPushButton(tr("Open..."), this);
  open->setObjectName("sweepOpen");
  open->setToolTip(tr("A kvstudio-cli compare --sweep ... --json file"));
  auto* exportButton = new QPushButton(tr("Export..."), this);
  exportButton->setObjectName("sweepExport");
  use_ = new QPushButton(tr("Use"), this);
  use_->setToolTip(tr("Send this variant's setting to the Parameters panel"));
  use_->setObjectName("sweepUseParams");
  use_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setObjectName("sweepProgress");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  status_ = new QLabel(tr("Run a prompt, then sweep a parameter"), this);
  status_->setObjectName("sweepStatus");
  status_->setWordWrap(true);
  plot_ = new QCustomPlot(this);
  plot_->setObjectName("sweepPlot");
  plot_->setMinimumSize(100, 60);
  detail_ = new QTextEdit(this);
  detail_->setObjectName("sweepDetail");
  detail_->setReadOnly(true);
  detail_->setMinimumWidth(60);
  detail_->setPlaceholderText(tr("Click a point to see its text and memory"));

  // The controls in a column that scrolls, beside the plot: the bottom dock is short on a
  // laptop's screen and its tabs share their width with the heatmap.
  auto* controls = new QWidget;
  auto* column = new QVBoxLayout(controls);
  column->setContentsMargins(0, 0, 4, 0);
  auto* valuesRow = new QHBoxLayout;
  valuesRow->addWidget(parameter_);
  valuesRow->addWidget(values_, 1);
  column->addLayout(valuesRow);
  auto* measureRow = new QHBoxLayout;
  measureRow->addWidget(measure_, 1);
  measureRow->addWidget(logY_);
  column->addLayout(measureRow);
  column->addLayout(methodGrid);
  auto* runRow = new QHBoxLayout;
  runRow->addWidget(run_);
  runRow->addWidget(stop_);
  column->addLayout(runRow);
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(open);
  fileRow->addWidget(exportButton);
  column->addLayout(fileRow);
  column->addWidget(progress_);
  column->addWidget(status_);
  column->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setObjectName("sweepControls");
  scroll->setWidget(controls);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setMinimumSize(130, 40);  // it scrolls when narrower than the controls
  auto* side = new QWidget(this);
  auto* sideLayout = new QVBoxLayout(side);
  sideLayout->setContentsMargins(0, 0, 0, 0);
  sideLayout->addWidget(detail_, 1);
  sideLayout->addWidget(use_);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(scroll);
  split->addWidget(plot_);
  split->addWidget(side);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 3);
  split->setStretchFactor(2, 1);
  split->setCollapsible(1, false);
  // The controls at their width when there is room (the splitter would share it by stretch).
  split->setSizes({controls->sizeHint().width() + 16, 600, 200});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(split, 1);

  connect(parameter_, &QComboBox::currentIndexChanged, this, &SweepPanel::parameterChanged);
  connect(measure_, &QComboBox::currentIndexChanged, this, &SweepPanel::redraw);
  connect(logY_, &QCheckBox::toggled, this, &SweepPanel::redraw);
  connect(run_, &QPushButton::clicked, this, &SweepPanel::start);
  connect(stop_, &QPushButton::clicked, this, &SweepPanel::stop);
  connect(open, &QPushButton::clicked, this, &SweepPanel::chooseFile);
  connect(exportButton, &QPushButton::clicked, this, &SweepPanel::exportRequested);
  connect(use_, &QPushButton::clicked, this, [this] {
    const int i = selected_ + 1;  // details_: the full cache first
    if (i >= 0 && i < static_cast<int>(details_.size())) Q_EMIT paramsChosen(details_[i].params);
  });
  connect(plot_, &QCustomPlot::plottableClick, this,
          [this](QCPAbstractPlottable* plottable, int dataIndex, QMouseEvent*) {
            auto* graph = qobject_cast<QCPGraph*>(plottable);
            if (!graph || dataIndex < 0 || dataIndex >= graph->dataCount()) return;
            if (graph->name() == QStringLiteral("full cache")) {
              selectPoint(-1);
              return;
            }
            const double x = (graph->data()->constBegin() + dataIndex)->key;
            const int index = sweepPointAt(curves_, graph->name(), x);
            if (index >= 0) selectPoint(index);
          });
  parameter_->setCurrentIndex(std::max(0, parameter_->findData(QStringLiteral("budget"))));
  parameterChanged();
}

void SweepPanel::wire(SessionController* c, ExportMenu* exportMenu, ParametersPanel* parameters) {
  base_ = [parameters] { return parameters->params(); };
  connect(this, &SweepPanel::sweepRequested, c, &SessionController::requestSweep);
  connect(this, &SweepPanel::stopRequested, c, &SessionController::stopSweep);
  connect(c, &SessionController::sweepProgress, this, &SweepPanel::setStatus);
  connect(this, &SweepPanel::paramsChosen, parameters, &ParametersPanel::setParams);
  if (!exportMenu) return;
  exportMenu->addView(this);
  connect(this, &SweepPanel::exportRequested, exportMenu,
          [exportMenu] { exportMenu->trigger(QStringLiteral("sweep")); });
}

SweepMeasure SweepPanel::measure() const {
  return measureNamed(measure_->currentData().toString().toStdString());
}

SweepRequest SweepPanel::request() const {
  SweepRequest r;
  r.sweep = (parameter_->currentData().toString() + '=' + values_->text().trimmed()).toStdString();
  for (auto it = methods_.begin(); it != methods_.end(); ++it) {
    if (it.value()->isEnabled() && it.value()->isChecked())
      r.methods.push_back(it.key().toStdString());
  }
  // The registry's order, as compare lists methods.
  std::vector<std::string> ordered;
  for (const CompressionMethod* m : allMethods()) {
    if (std::find(r.methods.begin(), r.methods.end(), m->name()) != r.methods.end())
      ordered.push_back(m->name());
  }
  r.methods = ordered;
  r.base = base_ ? base_() : CompressionParams{};
  return r;
}

void SweepPanel::parameterChanged() {
  const std::string key = parameter_->currentData().toString().toStdString();
  const ParamSpec& spec = paramSpec(key);
  values_->setText(defaultValues(spec));
  for (const CompressionMethod* m : allMethods()) {
    if (QCheckBox* box = methods_.value(QString::fromStdString(m->name()))) {
      box->setEnabled(reads(*m, key));
      box->setToolTip(reads(*m, key) ? QString()
                                     : tr("%1 does not read %2")
                                           .arg(QString::fromStdString(m->name()),
                                                QString::fromStdString(key)));
    }
  }
}

void SweepPanel::start() {
  const SweepRequest r = request();
  running_ = true;
  run_->setEnabled(false);
  stop_->setEnabled(true);
  progress_->setRange(0, 0);  // busy until the worker says how many variants
  status_->setText(tr("starting the sweep..."));
  Q_EMIT sweepRequested(r);
}

void SweepPanel::stop() {
  Q_EMIT stopRequested();
}

void SweepPanel::setStatus(const SweepStatus& s) {
  if (s.state == SweepStatus::State::kRunning) {
    running_ = true;
    progress_->setRange(0, std::max(1, s.total));
    progress_->setValue(s.done);
    status_->setText(
        tr("%1 of %2 variants, %3 s").arg(s.done).arg(s.total).arg(s.seconds, 0, 'f', 1));
    return;
  }
  running_ = false;
  run_->setEnabled(true);
  stop_->setEnabled(false);
  progress_->setRange(0, std::max(1, s.total));
  progress_->setValue(s.state == SweepStatus::State::kDone ? s.total : s.done);
  if (s.state == SweepStatus::State::kFailed) {
    status_->setText(tr("failed: %1").arg(s.error));
    return;
  }
  if (s.state == SweepStatus::State::kStopped) {
    status_->setText(tr("stopped after %1 of %2 variants").arg(s.done).arg(s.total));
    return;
  }
  curves_ = s.curves;
  details_ = s.details;
  source_ = tr("this prompt");
  selected_ = -2;
  use_->setEnabled(false);
  detail_->clear();
  status_->setText(tr("%1 variants in %2 s").arg(s.total).arg(s.seconds, 0, 'f', 1));
  redraw();
}

void SweepPanel::redraw() {
  if (curves_.points.empty()) return;
  drawSweep(plot_, curves_, measure(), logY_->isChecked());
}

void SweepPanel::selectPoint(int index) {
  if (index < -1 || index >= static_cast<int>(curves_.points.size())) return;
  selected_ = index;
  const SweepPoint& p = index < 0 ? curves_.reference : curves_.points[index];
  QString html = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(p.method));
  if (!p.value.is_null()) {
    html += QStringLiteral(" at %1 = %2")
                .arg(QString::fromStdString(curves_.key), QString::fromStdString(p.value.dump()));
  }
  html += QStringLiteral("<br>mean KL %1, top-1 %2, NLL %3")
              .arg(p.of(SweepMeasure::kMeanKl).mean, 0, 'g', 4)
              .arg(p.of(SweepMeasure::kTop1).mean, 0, 'f', 3)
              .arg(p.of(SweepMeasure::kNll).mean, 0, 'f', 4);
  const int i = index + 1;  // details_ start with the full cache
  if (i < static_cast<int>(details_.size())) {
    const SweepVariantDetail& d = details_[i];
    html += QStringLiteral("<br>KV bytes %1 of %2 (%3% of the slots kept)")
                .arg(bytesText(d.kvBytes), bytesText(d.kvBytesFull))
                .arg(100 * d.achievedRatio, 0, 'f', 1);
    html += QStringLiteral("<hr>") + d.text.toHtmlEscaped();
  } else {
    html += QStringLiteral("<br>KV bytes %1 (mean over %2 prompts; texts are in the JSON)")
                .arg(p.of(SweepMeasure::kKvBytes).mean, 0, 'f', 0)
                .arg(curves_.prompts);
  }
  detail_->setHtml(html);
  use_->setEnabled(index >= 0 && i < static_cast<int>(details_.size()));
}

QString SweepPanel::openJson(const QString& path) {
  try {
    std::ifstream in(QFile::encodeName(path).toStdString());
    require(in.good(), "cannot read " + path.toStdString());
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw KvsError(path.toStdString() + " is not JSON: " + e.what());
    }
    curves_ = sweepCurvesFromJson(json);
  } catch (const std::exception& e) {
    status_->setText(QString::fromStdString(e.what()));
    return QString::fromStdString(e.what());
  }
  details_.clear();
  source_ = QFileInfo(path).fileName();
  selected_ = -2;
  use_->setEnabled(false);
  detail_->clear();
  status_->setText(tr("%1: %2 points over %3 prompts")
                       .arg(source_)
                       .arg(curves_.points.size())
                       .arg(curves_.prompts));
  redraw();
  return {};
}

void SweepPanel::chooseFile() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a sweep"), {},
                                                    tr("Sweep JSON (*.json);;All files (*)"));
  if (!path.isEmpty()) openJson(path);
}

QVector<ExportFigure> SweepPanel::exportFigures() const {
  return {{QStringLiteral("sweep"), tr("Export &sweep..."), plot_, QStringLiteral("exportSweep")}};
}

QString SweepPanel::csv() const {
  return sweepCsv(curves_);
}

QJsonObject SweepPanel::viewJson() const {
  QJsonObject view = sweepViewJson(curves_, measure(), logY_->isChecked());
  view["source"] = source_;
  return view;
}

}  // namespace kvs::ui
