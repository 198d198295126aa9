#include "compare_panel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPushButton>
#include <QTableView>
#include <QTextEdit>
#include <QVBoxLayout>
#include <algorithm>
#include "qcustomplot_include.h"

#include "compare_table_model.h"
#include "compress/compression_method.h"
#include "export_menu.h"
#include "figure_decoration.h"
#include "parameters_panel.h"
#include "session_controller.h"

namespace kvs::ui {
namespace {

// A bar's label: the method over its budget ("kvmerger\n0.50", "h2o\n128 tok", "full"), two
// lines so that four variants fit under a narrow plot.
QString barLabel(const CompressionParams& p) {
  if (!compresses(p)) return QStringLiteral("full");
  if (p.budgetTokens > 0) {
    return QStringLiteral("%1\n%2 tok").arg(p.method.c_str()).arg(p.budgetTokens);
  }
  return QStringLiteral("%1\n%2").arg(p.method.c_str()).arg(p.budget, 0, 'f', 2);
}

// What the table shows for a setting: "" where the method does not read the parameter.
QString tableValue(const CompressionParams& p, const char* key, const QString& value) {
  const auto keys = methodNamed(p.method).parameterKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end() ? value : QString();
}

QJsonObject paramsJson(const CompressionParams& p) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(kvs::toJson(p).dump())).object();
}

}  // namespace

ComparePanel::ComparePanel(QWidget* parent) : QWidget(parent) {
  model_ = new CompareTableModel(this);
  table_ = new QTableView(this);
  table_->setObjectName("compareTable");
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  text_ = new QTextEdit(this);
  text_->setObjectName("compareText");
  text_->setReadOnly(true);
  memory_ = new QCustomPlot(this);
  memory_->setObjectName("compareMemory");
  memory_->yAxis->setLabel(tr("KV KiB after compression"));
  memory_->setMinimumWidth(220);
  bars_ = new QCPBars(memory_->xAxis, memory_->yAxis);
  bars_->setPen(Qt::NoPen);
  bars_->setBrush(QColor(33, 145, 140));
  add_ = new QPushButton(tr("Add current settings"), this);
  add_->setObjectName("compareAdd");
  auto* remove = new QPushButton(tr("Remove"), this);
  remove->setObjectName("compareRemove");
  auto* run = new QPushButton(tr("Compare"), this);
  run->setObjectName("compareRun");
  run->setToolTip(
      tr("Greedy continuations of the current prompt, measured against the full "
         "cache (teacher-forced KL, top-1 agreement, NLL)"));

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add_);
  buttons->addWidget(remove);
  buttons->addStretch(1);
  buttons->addWidget(run);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(buttons);
  auto* top = new QHBoxLayout;
  top->addWidget(table_, 3);
  top->addWidget(memory_, 1);
  layout->addLayout(top, 1);
  layout->addWidget(text_, 1);

  connect(add_, &QPushButton::clicked, this, [this] {
    add_->setEnabled(model_->addVariant(current_) &&
                     model_->variants().size() < CompareTableModel::kMaxVariants);
  });
  connect(remove, &QPushButton::clicked, this, [this] {
    model_->removeVariant(table_->currentIndex().row());
    add_->setEnabled(true);
  });
  connect(run, &QPushButton::clicked, this, [this] {
    if (model_->variants().isEmpty()) {
      text_->setPlainText(tr("Add a setting with \"Add current settings\", then Compare."));
      return;
    }
    Q_EMIT compareRequested(model_->variants());
  });
  connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    showRow(index.row());
    const auto& rows = model_->result().rows;
    if (index.row() < rows.size()) Q_EMIT rowSelected(rows[index.row()].params);
  });
}

void ComparePanel::wire(SessionController* c, ExportMenu* exportMenu, ParametersPanel* parameters) {
  connect(parameters, &ParametersPanel::paramsChanged, this, &ComparePanel::setCurrentParams);
  setCurrentParams(parameters->params());
  // The controller refuses a compare while it is busy or has no model to decode with; say why
  // here rather than leave the click without an answer.
  connect(this, &ComparePanel::compareRequested, this,
          [this, c](const QVector<CompressionParams>& variants) {
            if (!c->hasPrompt()) {
              text_->setPlainText(
                  tr("Run the prompt first: Compare continues the prompt that "
                     "Run has prefilled."));
            } else if (c->recordingOpen()) {
              text_->setPlainText(
                  tr("A recording is open without its model: load a model to "
                     "compare."));
            } else if (c->busy()) {
              text_->setPlainText(tr("Wait for the run to end, then press Compare again."));
            } else {
              c->compare(variants);
            }
          });
  connect(c, &SessionController::compareReady, this, &ComparePanel::setResult);
  connect(this, &ComparePanel::rowSelected, c, &SessionController::previewLayout);
  if (exportMenu) exportMenu->addView(this);
}

QVector<ExportFigure> ComparePanel::exportFigures() const {
  return {{QStringLiteral("compare"), tr("Export &compared variants..."), memory_,
           QStringLiteral("exportCompare")}};
}

std::unique_ptr<ExportDecoration> ComparePanel::decorate(const QString&, const ExportRequest& r) {
  if (!r.title) return nullptr;
  auto d = std::make_unique<FigureDecoration>(memory_);
  d->addTitle(tr("KV cache after compression, per variant"));
  return d;
}

QString ComparePanel::csv() const {
  // The table's columns (the budget and eps as set, "exact" spelled out), then the measurements.
  QString out = QStringLiteral(
      "variant,method,budget,budget_tokens,exact_budget,eps,sigma,mean_kl,max_kl,top1,nll,"
      "kv_bytes,kv_bytes_full,achieved_ratio,seconds\n");
  for (const CompareRow& r : model_->result().rows) {
    const CompressionParams& p = r.params;
    out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,")
               .arg(QString::fromStdString(variantName(p)), QString::fromStdString(p.method),
                    compresses(p) ? QString::number(p.budget) : QStringLiteral("1"),
                    QString::number(compresses(p) ? p.budgetTokens : 0),
                    tableValue(p, "exact_budget", p.exactBudget ? "true" : "false"),
                    tableValue(p, "eps", QString::number(p.eps)),
                    tableValue(p, "sigma", QString::number(p.sigma)));
    out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8\n")
               .arg(r.meanKl)
               .arg(r.maxKl)
               .arg(r.top1)
               .arg(r.nll)
               .arg(r.kvBytes)
               .arg(r.kvBytesFull)
               .arg(r.achievedRatio)
               .arg(r.seconds);
  }
  return out;
}

QJsonObject ComparePanel::viewJson() const {
  // Every variant's parameters as the method reads them, so each bar can be made again.
  QJsonArray rows;
  for (const CompareRow& r : model_->result().rows) {
    rows.append(QJsonObject{{"variant", QString::fromStdString(variantName(r.params))},
                            {"params", paramsJson(r.params)},
                            {"mean_kl", r.meanKl},
                            {"top1", r.top1},
                            {"kv_bytes", double(r.kvBytes)}});
  }
  return QJsonObject{{"view", "compare"}, {"rows", rows}};
}

void ComparePanel::setResult(const CompareResult& result) {
  model_->setResult(result);
  QVector<double> x, kib;
  QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
  for (int i = 0; i < result.rows.size(); ++i) {
    x.push_back(i);
    kib.push_back(result.rows[i].kvBytes / 1024.0);
    ticks->addTick(i, barLabel(result.rows[i].params));
  }
  bars_->setData(x, kib, true);
  memory_->xAxis->setTicker(ticks);
  memory_->rescaleAxes();
  memory_->xAxis->setRange(-0.6, std::max<double>(0.6, x.size() - 0.4));
  memory_->yAxis->setRange(0, memory_->yAxis->range().upper * 1.08);  // room above the tallest
  memory_->replot();
  showRow(result.rows.size() > 1 ? 1 : 0);
}

void ComparePanel::showRow(int row) {
  const auto& rows = model_->result().rows;
  if (row < 0 || row >= rows.size()) {
    text_->clear();
    return;
  }
  const CompareRow& r = rows[row];
  QString html = QStringLiteral(
                     "<p><b>%1</b> &mdash; tokens that differ from the full cache's "
                     "are highlighted</p><p>")
                     .arg(QString::fromStdString(r.params.method).toHtmlEscaped());
  for (int i = 0; i < r.chunks.size(); ++i) {
    const QString chunk = r.chunks[i].toHtmlEscaped().replace('\n', "<br>");
    html += r.differs.value(i)
                ? QStringLiteral("<span style=\"background:#ffc870\">%1</span>").arg(chunk)
                : chunk;
  }
  text_->setHtml(html + "</p>");
}

}  // namespace kvs::ui
