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
#include <QSpinBox>
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
  spread_ = new QComboBox(this);
  spread_->setObjectName("sweepSpread");
  spread_->addItem(tr("\u00b1 std error bars"), sweepSpreadKey(SweepSpread::kStdBars));
  spread_->addItem(tr("min\u2013max band"), sweepSpreadKey(SweepSpread::kMinMaxBand));
  spread_->setToolTip(tr("How the spread over a prompts file's prompts is drawn"));
  promptsFile_ = new QLineEdit(this);
  promptsFile_->setObjectName("sweepPromptsFile");
  promptsFile_->setPlaceholderText(tr("the kept prompt"));
  promptsFile_->setClearButtonEnabled(true);
  promptsFile_->setToolTip(
      tr("Empty: the kept prompt, from its prefill. A prompts file (one "
         "prompt per line, # comments): each point is the mean over its "
         "prompts, each prefilled once, as compare --prompts-file"));
  auto* browse = new QPushButton(tr("Prompts..."), this);
  browse->setObjectName("sweepBrowsePrompts");
  newTokens_ = new QSpinBox(this);
  newTokens_->setObjectName("sweepNewTokens");
  newTokens_->setRange(1, 100000);
  newTokens_->setValue(64);  // compare's --new-tokens default
  newTokens_->setPrefix(tr("new tokens "));
  newTokens_->setToolTip(tr("Greedy tokens decoded after each prompt of the file"));
  detailPrompt_ = new QSpinBox(this);
  detailPrompt_->setObjectName("sweepDetailPrompt");
  detailPrompt_->setRange(1, 1);
  detailPrompt_->setPrefix(tr("prompt "));
  detailPrompt_->setToolTip(tr("Whose text, memory and merging sets the clicked point shows"));
  detailPrompt_->setEnabled(false);
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
  status_ = new QLabel(tr("Run a prompt (or choose a prompts file), then sweep a parameter"), this);
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
  column->addWidget(spread_);
  auto* promptsRow = new QHBoxLayout;
  promptsRow->addWidget(promptsFile_, 1);
  promptsRow->addWidget(browse);
  column->addLayout(promptsRow);
  column->addWidget(newTokens_);
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
  sideLayout->addWidget(detailPrompt_);
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
  connect(spread_, &QComboBox::currentIndexChanged, this, &SweepPanel::redraw);
  connect(browse, &QPushButton::clicked, this, &SweepPanel::choosePromptsFile);
  connect(detailPrompt_, &QSpinBox::valueChanged, this, &SweepPanel::showDetail);
  connect(run_, &QPushButton::clicked, this, &SweepPanel::start);
  connect(stop_, &QPushButton::clicked, this, &SweepPanel::stop);
  connect(open, &QPushButton::clicked, this, &SweepPanel::chooseFile);
  connect(exportButton, &QPushButton::clicked, this, &SweepPanel::exportRequested);
  connect(use_, &QPushButton::clicked, this, [this] {
    const int i = selected_ + 1;  // a prompt's details: the full cache first
    if (i >= 0 && !details_.empty() && i < static_cast<int>(details_[0].size()))
      Q_EMIT paramsChosen(details_[0][i].params);
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
  connect(this, &SweepPanel::layoutRequested, c, &SessionController::previewLayout);
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
  r.promptsFile = promptsFile_->text().trimmed();
  r.newTokens = newTokens_->value();
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
  ran_ = r;
  running_ = true;
  run_->setEnabled(false);
  stop_->setEnabled(true);
  progress_->setRange(0, 0);  // busy until the worker says how many variants
  status_->setText(r.promptsFile.isEmpty()
                       ? tr("starting the sweep...")
                       : tr("reading %1...").arg(QFileInfo(r.promptsFile).fileName()));
  Q_EMIT sweepRequested(r);
}

void SweepPanel::stop() {
  Q_EMIT stopRequested();
}

void SweepPanel::setPromptsFile(const QString& path) {
  promptsFile_->setText(path);
}

SweepSpread SweepPanel::spread() const {
  return sweepSpreadNamed(spread_->currentData().toString());
}

void SweepPanel::choosePromptsFile() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Prompts file (one prompt per line)"),
                                   promptsFile_->text(), tr("Text (*.txt);;All files (*)"));
  if (!path.isEmpty()) setPromptsFile(path);
}

}  // namespace kvs::ui
