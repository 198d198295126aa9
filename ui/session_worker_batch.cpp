// SessionWorker's layer-ratio slot (session_worker.h): kept apart from session_worker.cpp so the
// paper's second observation can grow without touching the generation code.
//
// Core headers first: some have members named `slots`, a Qt macro.
#include "analysis/layer_ratios.h"
#include "model/llama_model.h"
#include "session/session.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include "session_worker.h"

#include <QElapsedTimer>
#include <QFile>

namespace kvs::ui {
namespace {

// KvsError messages are written for users; anything else is a bug or a LibTorch failure.
QString messageOf(const std::exception& e) {
  if (dynamic_cast<const KvsError*>(&e)) return QString::fromStdString(e.what());
  return QStringLiteral("internal error: ") + QString::fromStdString(e.what());
}

}  // namespace

void SessionWorker::computeLayerRatios(const LayerRatioRequest& request) {
  LayerRatioResult result;
  result.batch = !request.promptsFile.isEmpty();
  result.promptsFile = request.promptsFile;
  result.eps = request.eps;
  result.recent = request.recent;
  result.protectedRatio = request.protectedRatio;
  result.ticket = request.ticket;
  const MergeThresholds t{request.eps, request.recent, request.protectedRatio};
  const auto stopped = [&] { return stop_ || (request.cancel && request.cancel->load()); };

  QElapsedTimer timer;
  timer.start();
  try {
    if (!result.batch) {
      const PrefillState* state = kept();
      if (!state) return;  // no prompt yet: nothing to draw
      result.ratios.push_back(keptLayerRatios(*state, t));
      result.tokens.push_back(state->tokens());
      result.done = result.total = 1;
      result.seconds = timer.nsecsElapsed() / 1e9;
      Q_EMIT layerRatiosReady(result);
      return;
    }
    require(hasModel(), "no model is loaded; choose a model file first");
    const LlamaModel& model = session_->model();
    const auto prompts = readPromptsFile(QFile::encodeName(request.promptsFile).toStdString());
    result.total = static_cast<int>(prompts.size());
    result.state = LayerRatioResult::State::kRunning;
    Q_EMIT layerRatiosReady(result);
    // Partial results at most every 100 ms: a small model runs hundreds of prompts a second,
    // faster than the GUI thread can redraw, and a flooded event queue would delay Stop's answer.
    qint64 shownAt = 0;
    for (const std::string& prompt : prompts) {
      if (stopped()) throw KvsError("cancelled");
      const std::vector<int> ids = session_->tokenizer().encode(prompt, /*addBos=*/true);
      requirePromptFits(
          static_cast<int>(ids.size()), model.config().seqLen,
          "prompt " + std::to_string(result.done + 1) + " of " + request.promptsFile.toStdString());
      result.ratios.push_back(promptLayerRatios(model, ids, t, [&] { return !stopped(); }));
      result.tokens.push_back(static_cast<int>(ids.size()));
      result.prompts.push_back(QString::fromStdString(prompt));
      ++result.done;
      result.seconds = timer.nsecsElapsed() / 1e9;
      if (result.done == result.total) result.state = LayerRatioResult::State::kDone;
      if (result.done == result.total || timer.elapsed() - shownAt >= 100) {
        shownAt = timer.elapsed();
        Q_EMIT layerRatiosReady(result);
      }
    }
  } catch (const std::exception& e) {
    result.state =
        isCancelled(e) ? LayerRatioResult::State::kStopped : LayerRatioResult::State::kFailed;
    if (!isCancelled(e)) result.error = messageOf(e);
    result.seconds = timer.nsecsElapsed() / 1e9;
    Q_EMIT layerRatiosReady(result);
  }
}

}  // namespace kvs::ui
