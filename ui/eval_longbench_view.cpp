#include "eval_longbench_view.h"

#include "util/error.h"

#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include "qcustomplot_include.h"

#include "eval_colours.h"

namespace kvs::ui {
namespace {

QTableWidget* makeTable(QWidget* parent, const char* name, const QStringList& headers) {
  auto* t = new QTableWidget(0, headers.size(), parent);
  t->setObjectName(name);
  t->setHorizontalHeaderLabels(headers);
  t->verticalHeader()->hide();
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setSelectionMode(QAbstractItemView::SingleSelection);
  t->horizontalHeader()->setStretchLastSection(true);
  t->setMinimumSize(80, 60);  // the dock shrinks; the table scrolls
  return t;
}

QTableWidgetItem* item(const QString& text) {
  return new QTableWidgetItem(text);
}

QString text(const nlohmann::json& value) {
  if (value.is_string()) return QString::fromStdString(value.get<std::string>());
  return QString::fromStdString(value.dump());
}

// One line per answer (LongBench's answers are a list).
QString answersOf(const nlohmann::json& r) {
  const nlohmann::json answers = r.value("answers", nlohmann::json::array());
  if (!answers.is_array()) return text(answers);
  QStringList lines;
  for (const nlohmann::json& a : answers) lines << "  " + text(a);
  return lines.join('\n');
}

}  // namespace

EvalLongBenchView::EvalLongBenchView(QWidget* parent) : QWidget(parent) {
  table_ =
      makeTable(this, "longBenchTable", {tr("task"), tr("setting"), tr("samples"), tr("score")});
  bars_ = new QCustomPlot(this);
  bars_->setObjectName("longBenchBars");
  bars_->setMinimumSize(80, 60);
  bars_->yAxis->setLabel(tr("score (x100)"));
  bars_->legend->setVisible(true);
  // Right of the bars, at the top: a spacer under it takes the rest of the column.
  auto* side = new QCPLayoutGrid;
  bars_->plotLayout()->addElement(0, 1, side);
  bars_->plotLayout()->setColumnStretchFactor(1, 0.01);
  bars_->axisRect()->insetLayout()->take(bars_->legend);
  side->addElement(0, 0, bars_->legend);
  side->addElement(1, 0, new QCPLayoutElement(bars_));
  side->setRowStretchFactor(0, 0.001);
  bars_->legend->setMargins(QMargins(4, 2, 4, 2));
  samples_ = makeTable(this, "longBenchSamples",
                       {tr("id"), tr("prompt tokens"), tr("score"), tr("prediction")});
  details_ = new QPlainTextEdit(this);
  details_->setObjectName("sampleDetails");
  details_->setReadOnly(true);
  details_->setMinimumSize(80, 40);
  details_->setPlaceholderText(tr("Click a sample to see its prediction and answers."));
  loadSetting_ = new QPushButton(tr("Show on the heatmap"), this);
  loadSetting_->setObjectName("loadSetting");
  loadSetting_->setToolTip(
      tr("The sample's prompt (as the model read it) in the Prompt panel and its setting in "
         "Parameters, then Run: the heatmap shows this setting's merging sets on this sample"));
  loadSetting_->setEnabled(false);

  auto* top = new QSplitter(Qt::Horizontal, this);
  top->addWidget(table_);
  top->addWidget(bars_);
  top->setStretchFactor(0, 2);
  top->setStretchFactor(1, 3);
  auto* detailsBox = new QWidget(this);
  auto* detailsLayout = new QVBoxLayout(detailsBox);
  detailsLayout->setContentsMargins(0, 0, 0, 0);
  detailsLayout->addWidget(details_, 1);
  detailsLayout->addWidget(loadSetting_);
  auto* bottom = new QSplitter(Qt::Horizontal, this);
  bottom->addWidget(samples_);
  bottom->addWidget(detailsBox);
  bottom->setStretchFactor(0, 3);
  bottom->setStretchFactor(1, 2);
  // Two pages rather than four panes stacked: the dock under the heatmap is short on a laptop.
  samplesOf_ = new QLabel(this);
  samplesOf_->setObjectName("samplesOf");
  auto* samplesPage = new QWidget(this);
  auto* samplesLayout = new QVBoxLayout(samplesPage);
  samplesLayout->setContentsMargins(0, 0, 0, 0);
  samplesLayout->addWidget(samplesOf_);
  samplesLayout->addWidget(bottom, 1);
  pages_ = new QTabWidget(this);
  pages_->setObjectName("longBenchPages");
  pages_->setDocumentMode(true);
  pages_->addTab(top, tr("Scores"));
  pages_->addTab(samplesPage, tr("Samples"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(pages_);

  connect(table_, &QTableWidget::currentCellChanged, this,
          [this](int row) { selectTableRow(row); });
  // A click (or Enter) on a task x setting row opens its samples.
  connect(table_, &QTableWidget::cellActivated, this, [this] { pages_->setCurrentIndex(1); });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this] { pages_->setCurrentIndex(1); });
  connect(samples_, &QTableWidget::currentCellChanged, this, [this](int row) { showSample(row); });
  connect(loadSetting_, &QPushButton::clicked, this, [this] {
    try {
      const CompressionParams params = paramsFromJson(chosenParams_);
      if (!chosenPrompt_.isEmpty()) Q_EMIT sampleChosen(chosenPrompt_);
      Q_EMIT settingChosen(params);
    } catch (const KvsError& e) {
      details_->appendPlainText(tr("\nThis setting cannot be loaded: %1").arg(e.what()));
    }
  });
}

void EvalLongBenchView::setData(const EvalData& data) {
  const int row = table_->currentRow();
  data_ = data;
  fillTable();
  drawBars();
  // A run's update keeps the row looked at (and the sample); a new file starts at its first row.
  // The samples are looked up again in any case: they point into the records just replaced.
  const int sample = samples_->currentRow();
  const int shown = row >= 0 && row < table_->rowCount() ? row : (table_->rowCount() > 0 ? 0 : -1);
  {
    const QSignalBlocker block(table_);
    table_->setCurrentCell(shown, 0);
  }
  selectTableRow(shown);
  if (sample >= 0 && sample < samples_->rowCount()) samples_->setCurrentCell(sample, 0);
}

void EvalLongBenchView::fillTable() {
  const QSignalBlocker block(table_);
  table_->setRowCount(static_cast<int>(data_.table.size()));
  for (int i = 0; i < int(data_.table.size()); ++i) {
    const eval::TaskSettingScore& t = data_.table[i];
    table_->setItem(i, 0, item(QString::fromStdString(t.task)));
    table_->setItem(i, 1, item(QString::fromStdString(t.setting)));
    table_->setItem(i, 2, item(QString::number(t.samples)));
    table_->setItem(i, 3, item(QString::number(t.score, 'f', 2)));
  }
  table_->resizeColumnsToContents();
}

void EvalLongBenchView::drawBars() {
  bars_->clearPlottables();
  std::vector<std::string> tasks;
  std::vector<nlohmann::json> settings;  // by params, in table order
  std::vector<std::string> settingNames;
  for (const auto& t : data_.table) {
    if (std::find(tasks.begin(), tasks.end(), t.task) == tasks.end()) tasks.push_back(t.task);
    if (std::find(settings.begin(), settings.end(), t.params) == settings.end()) {
      settings.push_back(t.params);
      settingNames.push_back(t.setting);
    }
  }
  // Bars and gaps in plot coordinates, so a task's group spans 0.8 of its slot however many
  // settings there are (pixel gaps pushed the last bars past the axis).
  auto* group = new QCPBarsGroup(bars_);
  const double slot = 0.8 / std::max<size_t>(1, settings.size());
  const double width = slot * 0.85;
  group->setSpacingType(QCPBarsGroup::stPlotCoords);
  group->setSpacing(slot - width);
  for (size_t s = 0; s < settings.size(); ++s) {
    auto* b = new QCPBars(bars_->xAxis, bars_->yAxis);
    b->setName(QString::fromStdString(settingNames[s]));
    b->setPen(Qt::NoPen);
    b->setBrush(settingColour(int(s)));
    b->setWidth(width);
    b->setBarsGroup(group);
    for (const auto& t : data_.table) {
      if (t.params != settings[s]) continue;
      const auto at = std::find(tasks.begin(), tasks.end(), t.task) - tasks.begin();
      b->addData(double(at), t.score);
    }
  }
  QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
  for (size_t i = 0; i < tasks.size(); ++i)
    ticks->addTick(double(i), QString::fromStdString(tasks[i]));
  bars_->xAxis->setTicker(ticks);
  bars_->xAxis->setRange(-0.5, std::max<double>(0.5, double(tasks.size()) - 0.5));
  bars_->yAxis->setRange(0, 100);
  bars_->legend->setVisible(!settings.empty());
  bars_->replot();
}

void EvalLongBenchView::selectTableRow(int row) {
  if (row >= 0 && row < int(data_.table.size()) && table_->currentRow() != row) {
    table_->setCurrentCell(row, 0);  // comes back here through currentCellChanged
    return;
  }
  shownSamples_.clear();
  samplesOf_->setText(tr("Choose a row on the Scores page."));
  if (row >= 0 && row < int(data_.table.size())) {
    const eval::TaskSettingScore& t = data_.table[row];
    shownSamples_ = samplesOf(data_.records, t.task, t.params);
    samplesOf_->setText(tr("%1 under %2: %3 samples, score %4")
                            .arg(QString::fromStdString(t.task), QString::fromStdString(t.setting))
                            .arg(t.samples)
                            .arg(t.score, 0, 'f', 2));
  }
  fillSamples();
}

void EvalLongBenchView::fillSamples() {
  const QSignalBlocker block(samples_);
  samples_->setRowCount(static_cast<int>(shownSamples_.size()));
  for (int i = 0; i < int(shownSamples_.size()); ++i) {
    const nlohmann::json& r = *shownSamples_[i];
    samples_->setItem(i, 0, item(text(r.value("id", nlohmann::json("")))));
    samples_->setItem(i, 1, item(QString::number(r.value("prompt_tokens", 0))));
    samples_->setItem(i, 2, item(QString::number(r.value("score", 0.0), 'g', 4)));
    // One line in the table; the details box has all of it.
    samples_->setItem(i, 3, item(text(r.value("pred", nlohmann::json(""))).simplified()));
  }
  samples_->resizeColumnToContents(0);
  details_->clear();
  loadSetting_->setEnabled(false);
}

void EvalLongBenchView::showSample(int row) {
  if (row < 0 || row >= int(shownSamples_.size())) return;
  const nlohmann::json& r = *shownSamples_[row];
  chosenParams_ = r.value("params", nlohmann::json::object());
  const int before = r.value("prompt_tokens", 0), used = r.value("prompt_tokens_used", before);
  QString t;
  t += tr("%1 / %2 / %3\n")
           .arg(text(r.value("task", nlohmann::json(""))), text(r.value("id", nlohmann::json(""))),
                text(r.value("setting", nlohmann::json(""))));
  t += tr("prompt: %1 tokens%2\n")
           .arg(before)
           .arg(r.value("truncated", false)
                    ? tr(", cut in the middle to %1 (LongBench's truncation)").arg(used)
                    : QString());
  t += tr("score: %1\n").arg(r.value("score", 0.0), 0, 'g', 6);
  t += tr("kept: %1 of %2 KV bytes\n")
           .arg(r.value("kv_bytes", int64_t{0}))
           .arg(r.value("kv_bytes_full", int64_t{0}));
  t += tr("prediction:\n  %1\n").arg(text(r.value("pred", nlohmann::json(""))));
  t += tr("answers:\n%1").arg(answersOf(r));
  // The prompt is kept once per sample, on the full cache's record (older files have none).
  chosenPrompt_.clear();
  for (const nlohmann::json& other : data_.records) {
    if (other.value("task", "") == r.value("task", "") &&
        other.value("id", nlohmann::json()) == r.value("id", nlohmann::json()) &&
        other.contains("prompt")) {
      chosenPrompt_ = text(other.at("prompt"));
      break;
    }
  }
  t += chosenPrompt_.isEmpty() ? tr("\nprompt: not in this file (written before records kept it)")
                               : tr("\nprompt, as the model read it:\n%1").arg(chosenPrompt_);
  details_->setPlainText(t);
  loadSetting_->setEnabled(true);
}

}  // namespace kvs::ui
