#include "eval_run_form.h"

#include "compress/compression_method.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace kvs::ui {
namespace {

const char* const kNeedleKind = "needle";
const char* const kLongBenchKind = "longbench";

QStringList items(const QString& text) {
  QStringList out;
  for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
    if (!part.trimmed().isEmpty()) out << part.trimmed();
  }
  return out;
}

// Comma-separated numbers; *error names the field and the bad item.
template <typename T>
std::vector<T> numbers(const QString& text, const QString& name, QString* error) {
  std::vector<T> out;
  for (const QString& item : items(text)) {
    bool ok = false;
    const double v = item.toDouble(&ok);
    if (!ok || (std::is_integral_v<T> && v != double(qRound64(v)))) {
      if (error->isEmpty()) *error = QObject::tr("%1: \"%2\" is not a number").arg(name, item);
      return {};
    }
    out.push_back(static_cast<T>(v));
  }
  if (out.empty() && error->isEmpty()) *error = QObject::tr("%1: give at least one").arg(name);
  return out;
}

std::vector<std::string> names(const QString& text) {
  std::vector<std::string> out;
  for (const QString& item : items(text)) out.push_back(item.toStdString());
  return out;
}

QLineEdit* lineEdit(QWidget* parent, const char* name, const QString& tip) {
  auto* edit = new QLineEdit(parent);
  edit->setObjectName(name);
  edit->setToolTip(tip);
  edit->setMinimumWidth(60);  // the dock shrinks; the text scrolls
  return edit;
}

// A field with a Browse button beside it, as one form row.
QWidget* withBrowse(QLineEdit* field, QPushButton** button) {
  auto* row = new QWidget(field->parentWidget());
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(field, 1);
  *button = new QPushButton(QObject::tr("..."), row);
  (*button)->setToolTip(QObject::tr("Browse"));
  (*button)->setMaximumWidth(32);
  layout->addWidget(*button);
  return row;
}

}  // namespace

QString EvalRunForm::defaultMethods() {
  QStringList names;
  for (const CompressionMethod* m : allMethods()) {
    if (m->comparedByDefault()) names << QString::fromStdString(m->name());
  }
  return names.join(',');
}

EvalRunForm::EvalRunForm(QWidget* parent) : QWidget(parent) {
  kind_ = new QComboBox(this);
  kind_->setObjectName("evalKind");
  kind_->addItem(tr("Needle grid"), kNeedleKind);
  kind_->addItem(tr("LongBench"), kLongBenchKind);
  lengths_ = lineEdit(this, "evalLengths", tr("Context lengths in prompt tokens, e.g. 64,128,256"));
  depths_ = lineEdit(this, "evalDepths", tr("Depths of the needle, 0 (start) .. 1 (end)"));
  haystack_ = lineEdit(this, "evalHaystack",
                       tr("The filler text; empty: the CLI's default, the checkout's TinyStories "
                          "prompts"));
  haystack_->setPlaceholderText(tr("default (data/prompts)"));
  QPushButton* haystackBrowse = nullptr;
  haystackRow_ = withBrowse(haystack_, &haystackBrowse);
  dataDir_ = lineEdit(this, "evalData", tr("The folder of LongBench's <task>.jsonl files"));
  QPushButton* dataBrowse = nullptr;
  dataRow_ = withBrowse(dataDir_, &dataBrowse);
  tasks_ = lineEdit(this, "evalTasks", tr("Comma-separated LongBench tasks, e.g. trec,qasper"));
  limit_ = new QSpinBox(this);
  limit_->setObjectName("evalLimit");
  limit_->setRange(0, 1000000);
  limit_->setSpecialValueText(tr("all"));
  limit_->setToolTip(tr("Samples per task, the file's first; all when 0"));
  methods_ = lineEdit(this, "evalMethods",
                      tr("Comma-separated methods; the full cache is always run first"));
  needleBudgets_ = lineEdit(this, "evalNeedleBudgets", tr("Comma-separated budgets (fractions)"));
  longBenchBudgets_ =
      lineEdit(this, "evalLongBenchBudgets", tr("Comma-separated budgets (fractions)"));
  out_ = lineEdit(this, "evalOut",
                  tr("The records file (JSON lines). An existing file of this model is resumed; "
                     "one of another model is refused"));
  QPushButton* outBrowse = nullptr;
  QWidget* outRow = withBrowse(out_, &outBrowse);

  form_ = new QFormLayout;
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form_->addRow(tr("Run"), kind_);
  form_->addRow(tr("Lengths"), lengths_);
  form_->addRow(tr("Depths"), depths_);
  form_->addRow(tr("Haystack"), haystackRow_);
  form_->addRow(tr("Data folder"), dataRow_);
  form_->addRow(tr("Tasks"), tasks_);
  form_->addRow(tr("Limit"), limit_);
  form_->addRow(tr("Methods"), methods_);
  form_->addRow(tr("Budgets"), needleBudgets_);
  form_->addRow(tr("Budgets"), longBenchBudgets_);
  form_->addRow(tr("Results file"), outRow);

  start_ = new QPushButton(tr("Run evaluation"), this);
  start_->setObjectName("evalStart");
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("evalStop");
  stop_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setObjectName("evalProgress");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  status_ = new QLabel(tr("Runs on the loaded model, writing a record per finished sample; the "
                          "results appear on the Results tab as they come."),
                       this);
  status_->setObjectName("evalStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(stop_);
  buttons->addWidget(progress_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form_);
  layout->addLayout(buttons);
  layout->addWidget(status_);
  layout->addStretch(1);

  connect(kind_, &QComboBox::currentIndexChanged, this, &EvalRunForm::showKindFields);
  connect(start_, &QPushButton::clicked, this, &EvalRunForm::startRequested);
  connect(stop_, &QPushButton::clicked, this, &EvalRunForm::stopRequested);
  connect(outBrowse, &QPushButton::clicked, this, &EvalRunForm::chooseOut);
  connect(dataBrowse, &QPushButton::clicked, this,
          [this] { chooseFolder(dataDir_, tr("LongBench data folder (<task>.jsonl files)")); });
  connect(haystackBrowse, &QPushButton::clicked, this,
          [this] { chooseFile(haystack_, tr("Haystack text")); });
  restoreSettings();
  showKindFields();
}

void EvalRunForm::showKindFields() {
  const bool needle = kind_->currentData().toString() == kNeedleKind;
  for (QWidget* w : {static_cast<QWidget*>(lengths_), static_cast<QWidget*>(depths_), haystackRow_,
                     static_cast<QWidget*>(needleBudgets_)}) {
    form_->setRowVisible(w, needle);
  }
  for (QWidget* w : {dataRow_, static_cast<QWidget*>(tasks_), static_cast<QWidget*>(limit_),
                     static_cast<QWidget*>(longBenchBudgets_)}) {
    form_->setRowVisible(w, !needle);
  }
}

void EvalRunForm::chooseOut() {
  // No overwrite question: an existing file of this model is resumed, not replaced.
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Results file (records are appended; a file of this model resumes)"), out_->text(),
      tr("JSON lines (*.jsonl);;All files (*)"), nullptr, QFileDialog::DontConfirmOverwrite);
  if (!path.isEmpty()) out_->setText(path);
}

void EvalRunForm::chooseFolder(QLineEdit* field, const QString& caption) {
  const QString path = QFileDialog::getExistingDirectory(this, caption, field->text());
  if (!path.isEmpty()) field->setText(path);
}

void EvalRunForm::chooseFile(QLineEdit* field, const QString& caption) {
  const QString path = QFileDialog::getOpenFileName(this, caption, field->text());
  if (!path.isEmpty()) field->setText(path);
}

EvalRunRequest EvalRunForm::request(QString* error) const {
  error->clear();
  EvalRunRequest r;
  const bool needle = kind_->currentData().toString() == kNeedleKind;
  r.kind = needle ? EvalRunRequest::Kind::kNeedle : EvalRunRequest::Kind::kLongBench;
  r.methods = names(methods_->text());
  if (r.methods.empty()) *error = tr("Methods: give at least one, e.g. full,kvmerger");
  r.budgets =
      numbers<double>((needle ? needleBudgets_ : longBenchBudgets_)->text(), tr("Budgets"), error);
  r.outPath = out_->text().trimmed();
  if (needle) {
    r.lengths = numbers<int>(lengths_->text(), tr("Lengths"), error);
    r.depths = numbers<double>(depths_->text(), tr("Depths"), error);
    r.haystack = haystack_->text().trimmed();
  } else {
    r.dataDir = dataDir_->text().trimmed();
    r.tasks = names(tasks_->text());
    r.limit = limit_->value();
    if (r.dataDir.isEmpty() && error->isEmpty()) {
      *error = tr("Data folder: choose the folder of LongBench's <task>.jsonl files");
    }
    if (r.tasks.empty() && error->isEmpty()) *error = tr("Tasks: give e.g. trec,qasper");
  }
  if (r.outPath.isEmpty() && error->isEmpty()) {
    *error = tr("Results file: choose where the records go");
  }
  return r;
}

void EvalRunForm::setRunning(bool running) {
  running_ = running;
  start_->setEnabled(!running);
  stop_->setEnabled(running);
  if (running) progress_->setRange(0, 0);  // busy until the worker counts the work
}

void EvalRunForm::showMessage(const QString& text) {
  status_->setText(text);
}

void EvalRunForm::showStatus(const EvalRunStatus& s) {
  const bool running = s.state == EvalRunStatus::State::kRunning;
  setRunning(running);
  if (s.total > 0 || !running) {
    progress_->setRange(0, std::max(1, s.total));
    progress_->setValue(s.done);
  }
  const QString unit = s.kind == "needle" ? tr("cells x settings") : tr("samples x settings");
  QString text;
  switch (s.state) {
    case EvalRunStatus::State::kFailed:
      text = tr("Failed: %1").arg(s.error);
      break;
    case EvalRunStatus::State::kStopped:
      text = tr("Stopped at %1 of %2 %3 after %4 s; the %5 records written are kept in %6 (run "
                "again to resume)")
                 .arg(s.done)
                 .arg(s.total)
                 .arg(unit)
                 .arg(s.seconds, 0, 'f', 1)
                 .arg(s.recordCount)
                 .arg(s.outPath);
      break;
    case EvalRunStatus::State::kDone:
      text = tr("Done: %1 of %2 %3 in %4 s, written to %5")
                 .arg(s.done)
                 .arg(s.total)
                 .arg(unit)
                 .arg(s.seconds, 0, 'f', 1)
                 .arg(s.outPath);
      break;
    case EvalRunStatus::State::kRunning:
      text = s.total > 0 ? tr("Running: %1 of %2 %3").arg(s.done).arg(s.total).arg(unit)
                         : tr("Starting...");
      break;
  }
  if (s.resumed > 0 && s.state != EvalRunStatus::State::kFailed) {
    text += tr("\nResumed %1: its %2 records of this model are kept and skipped")
                .arg(s.outPath)
                .arg(s.resumed);
  }
  for (const QString& note : s.notes) text += tr("\nNote: %1").arg(note);
  status_->setText(text);
}

void EvalRunForm::restoreSettings() {
  QSettings s;
  s.beginGroup(QStringLiteral("evaluation"));
  const int kind = kind_->findData(s.value("kind", kNeedleKind).toString());
  kind_->setCurrentIndex(std::max(0, kind));
  lengths_->setText(s.value("lengths", "64,128,256").toString());
  depths_->setText(s.value("depths", "0,0.25,0.5,0.75,1").toString());
  haystack_->setText(s.value("haystack").toString());
  dataDir_->setText(s.value("dataDir").toString());
  tasks_->setText(s.value("tasks").toString());
  limit_->setValue(s.value("limit", 0).toInt());
  methods_->setText(s.value("methods", defaultMethods()).toString());
  needleBudgets_->setText(s.value("needleBudgets", "0.5").toString());
  longBenchBudgets_->setText(s.value("longBenchBudgets", "0.5,0.35").toString());
  out_->setText(s.value("out").toString());
}

void EvalRunForm::saveSettings() const {
  QSettings s;
  s.beginGroup(QStringLiteral("evaluation"));
  s.setValue("kind", kind_->currentData().toString());
  s.setValue("lengths", lengths_->text());
  s.setValue("depths", depths_->text());
  s.setValue("haystack", haystack_->text());
  s.setValue("dataDir", dataDir_->text());
  s.setValue("tasks", tasks_->text());
  s.setValue("limit", limit_->value());
  s.setValue("methods", methods_->text());
  s.setValue("needleBudgets", needleBudgets_->text());
  s.setValue("longBenchBudgets", longBenchBudgets_->text());
  s.setValue("out", out_->text());
}

}  // namespace kvs::ui
