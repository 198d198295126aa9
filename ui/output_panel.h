#pragma once
// OutputPanel: the generated text as it streams in, errors in red, and a progress bar of the
// positions run.

#include <QWidget>

class QPlainTextEdit;
class QProgressBar;

namespace kvs::ui {

class OutputPanel : public QWidget {
  Q_OBJECT

 public:
  explicit OutputPanel(QWidget* parent = nullptr);

  QString text() const;
  void clear();
  // Appends text where the last chunk ended (no line break added: chunks are parts of words).
  void appendText(const QString& chunk);
  // Replaces the text with the prompt's and a continuation (decoded again for a new setting).
  void setTexts(const QString& prompt, const QString& continuation);
  // Appends message as a red paragraph of its own.
  void showError(const QString& message);

  void startProgress(int total);
  void setProgress(int done, int total);

 private:
  QPlainTextEdit* text_;
  QProgressBar* progress_;
};

}  // namespace kvs::ui
