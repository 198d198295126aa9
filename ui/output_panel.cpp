#include "output_panel.h"

#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScrollBar>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QVBoxLayout>

namespace kvs::ui {

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

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(text_, 1);
  layout->addWidget(progress_);
}

QString OutputPanel::text() const {
  return text_->toPlainText();
}

void OutputPanel::clear() {
  text_->clear();
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
  progress_->setFormat(tr("%v / %m steps"));
  progress_->setRange(0, total);
  progress_->setValue(0);
}

void OutputPanel::setProgress(int done, int total) {
  if (progress_->maximum() != total) progress_->setMaximum(total);
  progress_->setValue(done);
}

}  // namespace kvs::ui
