#include "prompt_token_counter.h"

#include "model/model_loader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"

#include <QPromise>
#include <QThreadPool>
#include <exception>

#include "prompt_panel.h"

namespace kvs::ui {

PromptTokenCounter::PromptTokenCounter(PromptPanel* panel, QObject* parent)
    : QObject(parent), panel_(panel) {
  debounce_.setSingleShot(true);
  debounce_.setInterval(kDebounceMs);
  connect(&debounce_, &QTimer::timeout, this, &PromptTokenCounter::update);
  connect(panel_, &PromptPanel::jobEdited, &debounce_, qOverload<>(&QTimer::start));
  connect(&loading_, &QFutureWatcher<TokenizerPtr>::finished, this, [this] {
    tokenizer_ = loading_.future().resultCount() > 0 ? loading_.result() : nullptr;
    update();
  });
}

void PromptTokenCounter::setModel(const QString& path) {
  tokenizer_.reset();
  update();
  auto promise = std::make_shared<QPromise<TokenizerPtr>>();
  loading_.setFuture(promise->future());
  promise->start();
  // The session found the model's tokenizer the same way (Session::open): the .model file next
  // to the checkpoint whose vocabulary matches the model's.
  QThreadPool::globalInstance()->start([promise, file = path.toStdString()] {
    try {
      const int vocab = describeModel(file).config.vocabSize;
      promise->addResult(std::make_shared<const Tokenizer>(locateTokenizer(file, "", vocab)));
    } catch (const std::exception&) {  // a recording, or no tokenizer found: no count
      promise->addResult(nullptr);
    }
    promise->finish();
  });
}

int PromptTokenCounter::count(const GenerationJob& job) const {
  if (!tokenizer_) return -1;
  // The ids a run will request, by the same function (core/session/request.h).
  try {
    return static_cast<int>(promptIdsOf(*tokenizer_, promptSpecOf(job)).size());
  } catch (const std::exception&) {  // e.g. the chat format with no message
    return -1;
  }
}

void PromptTokenCounter::update() {
  debounce_.stop();
  const int tokens = count(panel_->job());
  panel_->setTokenCount(tokens);
  Q_EMIT counted(tokens);
}

}  // namespace kvs::ui
