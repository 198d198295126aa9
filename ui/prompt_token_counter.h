#pragma once
// PromptTokenCounter: the live counter under the prompt (tokens / context). It counts the tokens
// the Prompt panel's job makes, BOS and the chat format included, as the worker's request will.
// It keeps its own copy of the model's tokenizer (the worker's lives on the worker's thread, busy
// during runs), loaded on the thread pool when a model opens. A count is one SentencePiece encode
// on the GUI thread once typing pauses for kDebounceMs: microseconds for stories260K's tokenizer,
// about a millisecond for a 32k vocabulary on a page of text.

#include <QFutureWatcher>
#include <QObject>
#include <QTimer>
#include <memory>

#include "generation_job.h"

namespace kvs {
class Tokenizer;
}

namespace kvs::ui {

class PromptPanel;

class PromptTokenCounter : public QObject {
  Q_OBJECT

 public:
  static constexpr int kDebounceMs = 150;

  // Follows panel's edits and shows the count there.
  explicit PromptTokenCounter(PromptPanel* panel, QObject* parent = nullptr);

  // The model opened from path: its tokenizer is loaded in the background (a recording, or a
  // model whose tokenizer cannot be found, gives no count).
  void setModel(const QString& path);
  bool hasTokenizer() const { return tokenizer_ != nullptr; }
  // The prompt tokens of job, or -1 without a tokenizer or for a job the request refuses (a chat
  // turn without a message).
  int count(const GenerationJob& job) const;

 Q_SIGNALS:
  // The count shown was updated (tests wait for it).
  void counted(int tokens);

 private:
  using TokenizerPtr = std::shared_ptr<const kvs::Tokenizer>;
  void update();

  PromptPanel* panel_;
  TokenizerPtr tokenizer_;
  // The newest load; a newer model's replaces it, so a slow load never overrides a later one.
  QFutureWatcher<TokenizerPtr> loading_;
  QTimer debounce_;
};

}  // namespace kvs::ui
