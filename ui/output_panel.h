#pragma once
// OutputPanel: the generated text as it streams in, errors in red, a legend of the prompt's token
// colours, and a progress bar of the positions run.

#include <QWidget>

#include "generation_stats.h"
#include "token_fates.h"

class QPlainTextEdit;
class QProgressBar;

namespace kvs::ui {

class HeatmapPanel;
class SessionController;
class TokenTableModel;

class OutputPanel : public QWidget {
  Q_OBJECT

 public:
  explicit OutputPanel(QWidget* parent = nullptr);
  // Streams the controller's text and progress, shows each continuation and the full cache's,
  // and colours the prompt's tokens (here and in tokens) by the fates of the head the heatmap
  // shows.
  void wire(SessionController* controller, const HeatmapPanel* heatmap, TokenTableModel* tokens);

  QString text() const;
  void clear();
  // Appends text where the last chunk ended (no line break added: chunks are parts of words).
  void appendText(const QString& chunk);
  // Replaces the text with the prompt's and a continuation (decoded again for a new setting).
  void setTexts(const QString& prompt, const QString& continuation);
  // Colours the prompt's tokens by fate; token i spans text [charEnds[i-1], charEnds[i]). The
  // tooltip over a token says its id, piece, position, set and pivot.
  void setTokenFates(const QVector<int>& charEnds, const QVector<int>& ids,
                     const QStringList& pieces, const QVector<TokenFate>& fates);
  // The fate shown at a character of the text (kKept outside the prompt), for tests.
  QString toolTipAt(int position) const;
  // The full cache's continuation of the same prompt, for comparison (its own tab).
  void setReference(const QString& continuation);
  QString reference() const;
  // Appends message as a red paragraph of its own.
  void showError(const QString& message);

  void startProgress(int total);
  // A model load: the bar counts layers; a failed one empties it (no full bar from an earlier
  // run or from layers read before the failure).
  void startLoadProgress();
  void failLoadProgress();
  void setProgress(int done, int total);
  // The run's end: a full bar saying why it ended early (end of text), or where it was stopped.
  void finishProgress(const GenerationStats& stats);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QPlainTextEdit* text_;
  QPlainTextEdit* reference_;
  QProgressBar* progress_;
};

}  // namespace kvs::ui
