#include "prompt_panel.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <algorithm>
#include <climits>

namespace kvs::ui {
namespace {

// Until a model is loaded its context is unknown; this keeps a restored value from being clamped.
constexpr int kUnknownContext = 1 << 20;

}  // namespace

PromptPanel::PromptPanel(QWidget* parent) : QWidget(parent) {
  modelPath_ = new QLineEdit(this);
  modelPath_->setObjectName("modelPath");
  modelPath_->setPlaceholderText(tr("llama2.c .bin file or Hugging Face folder (Enter loads it)"));
  browse_ = new QPushButton(tr("Browse..."), this);
  browse_->setObjectName("browse");
  auto* modelRow = new QHBoxLayout;
  modelRow->addWidget(modelPath_, 1);
  modelRow->addWidget(browse_);

  prompt_ = new QPlainTextEdit(this);
  prompt_->setObjectName("prompt");
  prompt_->setPlaceholderText(tr("Prompt (empty: generate from BOS alone)"));
  prompt_->setPlainText(QStringLiteral("Once upon a time"));
  // Three lines at least; the dock gives it more where there is room.
  prompt_->setMinimumHeight(3 * prompt_->fontMetrics().lineSpacing() + 12);
  tokenCount_ = new QLabel(this);
  tokenCount_->setObjectName("tokenCount");
  tokenCount_->setMinimumHeight(tokenCount_->fontMetrics().height());  // no jump when empty
  tokenCount_->setToolTip(
      tr("Tokens of the prompt as the model reads it (BOS and the chat format included) and the "
         "model's context"));

  chat_ = new QCheckBox(tr("Chat format"), this);
  chat_->setObjectName("chat");
  chat_->setToolTip(
      tr("Wrap the prompt as one user turn in the model's chat format (Llama 2's [INST] ... "
         "[/INST], Llama 3's headers or ChatML, from its tokenizer), as the CLI's --chat"));
  system_ = new QLineEdit(this);
  system_->setObjectName("system");
  system_->setPlaceholderText(tr("System prompt (optional)"));
  system_->setEnabled(false);
  connect(chat_, &QCheckBox::toggled, system_, &QWidget::setEnabled);

  newTokens_ = new QSpinBox(this);
  newTokens_->setObjectName("newTokens");
  newTokens_->setRange(1, kUnknownContext);
  newTokens_->setValue(256);
  newTokens_->setToolTip(
      tr("Tokens to generate after the prompt, at most what the context leaves (the counter above "
         "says). The CLI's generate --steps counts positions instead, the prompt's included."));

  temperature_ = new QDoubleSpinBox(this);
  temperature_->setObjectName("temperature");
  temperature_->setRange(0.0, 2.0);
  temperature_->setSingleStep(0.1);
  temperature_->setDecimals(2);
  temperature_->setValue(0.0);
  temperature_->setToolTip(tr("0 = greedy: the same text every run"));

  topP_ = new QDoubleSpinBox(this);
  topP_->setObjectName("topP");
  topP_->setRange(0.01, 1.0);
  topP_->setSingleStep(0.05);
  topP_->setDecimals(2);
  topP_->setValue(0.9);
  topP_->setToolTip(tr("Nucleus sampling mass; 1 = the full distribution"));

  seed_ = new QSpinBox(this);
  seed_->setObjectName("seed");
  seed_->setRange(0, INT_MAX);
  seed_->setValue(42);

  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName("run");
  run_->setToolTip(tr("Generate (Ctrl+Return)"));
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("stop");
  stop_->setToolTip(tr("Stop after the current token (Esc)"));
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(run_);
  buttons->addWidget(stop_);

  // Sampling as two rows of two, Seed beside Steps and Top-p beside Temperature: the panel stays
  // short enough for a laptop's screen.
  auto* seedLabel = new QLabel(tr("Seed"), this);
  auto* topPLabel = new QLabel(tr("Top-p"), this);
  const int secondLabel = std::max(seedLabel->sizeHint().width(), topPLabel->sizeHint().width());
  const auto pair = [secondLabel](QWidget* first, QLabel* label, QWidget* second) {
    label->setBuddy(second);
    label->setMinimumWidth(secondLabel);  // the two rows' second fields line up
    auto* row = new QHBoxLayout;
    row->addWidget(first, 1);
    row->addSpacing(6);
    row->addWidget(label);
    row->addWidget(second, 1);
    return row;
  };

  auto* form = new QFormLayout(this);
  form->addRow(tr("Model"), modelRow);
  form->addRow(tr("Prompt"), prompt_);
  form->addRow(QString(), tokenCount_);
  form->addRow(QString(), chat_);
  form->addRow(tr("System"), system_);
  form->addRow(tr("New tokens"), pair(newTokens_, seedLabel, seed_));
  form->addRow(tr("Temperature"), pair(temperature_, topPLabel, topP_));
  form->addRow(buttons);

  connect(modelPath_, &QLineEdit::returnPressed, this, [this] {
    const QString typed = modelPath_->text().trimmed();
    if (!typed.isEmpty()) modelPath_->setText(QFileInfo(typed).absoluteFilePath());
    Q_EMIT loadRequested(modelPath_->text());
  });
  connect(prompt_, &QPlainTextEdit::textChanged, this, &PromptPanel::jobEdited);
  connect(newTokens_, qOverload<int>(&QSpinBox::valueChanged), this, &PromptPanel::showTokenCount);
  connect(chat_, &QCheckBox::toggled, this, &PromptPanel::jobEdited);
  connect(system_, &QLineEdit::textChanged, this, &PromptPanel::jobEdited);
  connect(browse_, &QPushButton::clicked, this, &PromptPanel::browse);
  connect(run_, &QPushButton::clicked, this, &PromptPanel::runRequested);
  connect(stop_, &QPushButton::clicked, this, &PromptPanel::stopRequested);
  // QShortcuts rather than button shortcuts: those click after a 100 ms animation, during which
  // a fast model generates hundreds of tokens more.
  auto* runKey = new QShortcut(this);
  runKey->setKeys(
      {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  connect(runKey, &QShortcut::activated, this, [this] {
    if (run_->isEnabled()) Q_EMIT runRequested();
  });
  auto* stopKey = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  connect(stopKey, &QShortcut::activated, this, [this] {
    if (stop_->isEnabled()) Q_EMIT stopRequested();
  });
  setState(State::kNoModel);
}

GenerationJob PromptPanel::job() const {
  GenerationJob job;
  job.prompt = prompt_->toPlainText();
  job.newTokens = newTokens_->value();
  job.temperature = temperature_->value();
  job.topP = topP_->value();
  job.seed = static_cast<quint64>(seed_->value());
  job.chat = chat_->isChecked();
  job.system = system_->text();
  return job;
}

void PromptPanel::setJob(const GenerationJob& job) {
  prompt_->setPlainText(job.prompt);
  newTokens_->setValue(job.newTokens);
  temperature_->setValue(job.temperature);
  topP_->setValue(job.topP);
  seed_->setValue(static_cast<int>(qMin<quint64>(job.seed, INT_MAX)));
  chat_->setChecked(job.chat);
  system_->setText(job.system);
}

QString PromptPanel::modelPath() const {
  return modelPath_->text();
}

void PromptPanel::setModelPath(const QString& path) {
  modelPath_->setText(path);
}

void PromptPanel::setContextLength(int positions) {
  newTokens_->setMaximum(positions);
  context_ = positions;
  showTokenCount();
}

void PromptPanel::setTokenCount(int tokens) {
  promptTokens_ = tokens;
  showTokenCount();
}

// "P tokens + N new / C context"; when the prompt leaves room for fewer than N new tokens (a
// token is chosen at each of the positions P-1 .. C-1, so C - P + 1 fit), how many the run makes.
void PromptPanel::showTokenCount() {
  const int tokens = promptTokens_;
  if (tokens < 0) {
    tokenCount_->clear();
    return;
  }
  QString text = tokens == 1 ? tr("1 token") : tr("%1 tokens").arg(tokens);
  text += tr(" + %1 new").arg(newTokens_->value());
  if (context_ > 0) text += tr(" / %1 context").arg(context_);
  const bool tooLong = context_ > 0 && tokens > context_;
  const int fit = context_ - tokens + 1;
  const bool capped = context_ > 0 && !tooLong && newTokens_->value() > fit;
  if (tooLong) text += tr(": longer than the context");
  if (capped) text += tr(": %1 new fit").arg(fit);
  tokenCount_->setText(text);
  tokenCount_->setStyleSheet(tooLong  ? QStringLiteral("color: #c01010")
                             : capped ? QStringLiteral("color: #a05a00")
                                      : QString());
}

void PromptPanel::setState(State state) {
  const bool idle = state == State::kNoModel || state == State::kReady;
  modelPath_->setEnabled(idle);
  browse_->setEnabled(idle);
  run_->setEnabled(state == State::kReady);
  stop_->setEnabled(state == State::kRunning || state == State::kLoading);
}

void PromptPanel::browse() {
  const QString start = QFileInfo(modelPath_->text()).absolutePath();
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open model"), start,
      tr("Models: llama2.c .bin, or config.json / .safetensors of a Hugging Face folder "
         "(*.bin config.json *.safetensors);;All files (*)"));
  if (path.isEmpty()) return;
  modelPath_->setText(path);
  Q_EMIT loadRequested(path);
}

}  // namespace kvs::ui
