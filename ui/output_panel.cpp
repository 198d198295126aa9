#include "output_panel.h"

#include <QHelpEvent>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScrollBar>
#include <QTabWidget>
#include <QTextBlock>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>

#include "heatmap_panel.h"
#include "merging_sets_item.h"
#include "session_controller.h"
#include "token_table_model.h"

namespace kvs::ui {
namespace {

// What the prompt's token colours mean: a swatch per fate, in setTokenFates' colours. One line
// that never widens the panel (it is clipped instead).
QLabel* fateLegend(QWidget* parent) {
  QString html = OutputPanel::tr("Prompt tokens:");
  for (Fate f : {Fate::kKept, Fate::kProtected, Fate::kPivot, Fate::kMerged, Fate::kEvicted}) {
    const QColor c = fateColour(f);
    const QString swatch = c.alpha() == 0 ? QStringLiteral("white") : c.name();
    html += QStringLiteral(" <span style=\"background:%1\">&nbsp;%2&nbsp;</span>")
                .arg(swatch, fateName(f).toHtmlEscaped());
  }
  auto* legend = new QLabel(html, parent);
  legend->setObjectName("fateLegend");
  legend->setTextFormat(Qt::RichText);
  legend->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  legend->setToolTip(OutputPanel::tr(
      "Colours of the prompt's tokens in the head the heatmap shows; hover a token for its set"));
  return legend;
}

}  // namespace

void OutputPanel::wire(SessionController* c, const HeatmapPanel* heatmap, TokenTableModel* tokens) {
  // The fates follow the layout drawn on the heatmap (its selected head).
  const auto showFates = [this, c, heatmap, tokens] {
    const PromptInfo& p = c->prompt();
    const QVector<TokenFate> fates = tokenFates(heatmap->overlay()->head(), p.ids.size());
    tokens->setTokens(p.ids, p.pieces, fates);
    setTokenFates(p.charEnds, p.ids, p.pieces, fates);
  };
  connect(c, &SessionController::textReady, this, &OutputPanel::appendText);
  connect(c, &SessionController::progress, this, &OutputPanel::setProgress);
  connect(c, &SessionController::finished, this, &OutputPanel::finishProgress);
  connect(c, &SessionController::referenceReady, this,
          [this, c](const VariantSummary& s) { setReference(c->prompt().text + s.text); });
  connect(c, &SessionController::variantReady, this, [this, c, showFates](const VariantSummary& s) {
    setTexts(c->prompt().text, s.text);
    showFates();
  });
  connect(c, &SessionController::layoutReady, this, showFates);
  connect(heatmap, &HeatmapPanel::selectionChanged, this, showFates);
}

OutputPanel::OutputPanel(QWidget* parent) : QWidget(parent) {
  text_ = new QPlainTextEdit(this);
  text_->setObjectName("output");
  text_->setReadOnly(true);
  text_->setPlaceholderText(tr("The generated text appears here."));
  progress_ = new QProgressBar(this);
  progress_->setObjectName("progress");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat(QString());  // no "0 / 1" before the first run

  text_->viewport()->installEventFilter(this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  reference_ = new QPlainTextEdit(this);
  reference_->setObjectName("referenceOutput");
  reference_->setReadOnly(true);
  reference_->setPlaceholderText(tr("The full cache's continuation appears here after a run."));
  auto* tabs = new QTabWidget(this);
  tabs->addTab(text_, tr("Output (current setting)"));
  tabs->addTab(reference_, tr("Full cache"));
  layout->addWidget(tabs, 1);
  layout->addWidget(fateLegend(this));
  layout->addWidget(progress_);
}

QString OutputPanel::text() const {
  return text_->toPlainText();
}

void OutputPanel::clear() {
  text_->clear();
  reference_->clear();
}

void OutputPanel::appendText(const QString& chunk) {
  // Follow the stream only when the user has not scrolled up to read.
  QScrollBar* bar = text_->verticalScrollBar();
  const bool atBottom = bar->value() == bar->maximum();
  QTextCursor cursor(text_->document());
  cursor.movePosition(QTextCursor::End);
  cursor.insertText(chunk, QTextCharFormat());  // plain, even right after a red error
  if (atBottom) bar->setValue(bar->maximum());
}

void OutputPanel::setTexts(const QString& prompt, const QString& continuation) {
  const int scroll = text_->verticalScrollBar()->value();
  text_->setPlainText(prompt + continuation);
  text_->verticalScrollBar()->setValue(scroll);
}

void OutputPanel::setTokenFates(const QVector<int>& charEnds, const QVector<int>& ids,
                                const QStringList& pieces, const QVector<TokenFate>& fates) {
  QTextDocument* doc = text_->document();
  const int n = static_cast<int>(std::min({charEnds.size(), fates.size(), ids.size()}));
  QTextCursor cursor(doc);
  cursor.beginEditBlock();
  for (int i = 1; i < n; ++i) {
    const int start = charEnds[i - 1], end = charEnds[i];
    if (end <= start || end > doc->characterCount() - 1) continue;
    const TokenFate& f = fates[i];
    QTextCharFormat format;
    format.setBackground(fateColour(f.fate));
    format.setToolTip(tr("token %1, id %2, piece \"%3\": %4; set %5-%6, pivot %7")
                          .arg(i)
                          .arg(ids[i])
                          .arg(pieces.value(i), fateName(f.fate))
                          .arg(f.first)
                          .arg(f.last)
                          .arg(f.pivot));
    cursor.setPosition(start);
    cursor.setPosition(end, QTextCursor::KeepAnchor);
    cursor.setCharFormat(format);
  }
  cursor.endEditBlock();
}

QString OutputPanel::toolTipAt(int position) const {
  QTextCursor cursor(text_->document());
  cursor.setPosition(position + 1);  // the format of the character before the cursor
  return cursor.charFormat().toolTip();
}

bool OutputPanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == text_->viewport() && event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QTextCursor cursor = text_->cursorForPosition(help->pos());
    const QString tip = cursor.charFormat().toolTip();
    if (tip.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), tip, text_->viewport());
    }
    return true;
  }
  return QWidget::eventFilter(watched, event);
}

void OutputPanel::setReference(const QString& continuation) {
  reference_->setPlainText(continuation);
}

QString OutputPanel::reference() const {
  return reference_->toPlainText();
}

void OutputPanel::showError(const QString& message) {
  QTextCursor cursor(text_->document());
  cursor.movePosition(QTextCursor::End);
  if (!text_->document()->isEmpty()) cursor.insertBlock();
  QTextCharFormat red;
  red.setForeground(QColor(0xc0, 0x10, 0x10));
  cursor.insertText(tr("Error: %1").arg(message), red);
  text_->verticalScrollBar()->setValue(text_->verticalScrollBar()->maximum());
}

void OutputPanel::startProgress(int total) {
  progress_->setFormat(tr("%v / %m new tokens"));
  progress_->setRange(0, total);
  progress_->setValue(0);
}

void OutputPanel::startLoadProgress() {
  progress_->setFormat(tr("%v / %m layers loaded"));
  progress_->setRange(0, 1);
  progress_->setValue(0);
}

void OutputPanel::failLoadProgress() {
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat(tr("load failed"));
}

void OutputPanel::setProgress(int done, int total) {
  if (progress_->maximum() != total) progress_->setMaximum(total);
  progress_->setValue(done);
}

void OutputPanel::finishProgress(const GenerationStats& stats) {
  if (stats.regenerated) return;  // a new setting's decode: the run's bar stays as it ended
  const int asked = stats.steps - stats.promptTokens + 1;  // new tokens the positions allow
  if (stats.stopReason == QLatin1String("stop_token")) {
    progress_->setRange(0, stats.generatedTokens);
    progress_->setValue(stats.generatedTokens);
    progress_->setFormat(
        tr("%1 of %2 new tokens: end of text").arg(stats.generatedTokens).arg(asked));
  } else if (stats.stopReason == QLatin1String("cancelled")) {
    progress_->setFormat(tr("stopped at %v / %m new tokens"));
  } else {
    progress_->setValue(progress_->maximum());
  }
}

}  // namespace kvs::ui
