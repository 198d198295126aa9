// SessionWorker's sweep slot (session_worker.h): every method at every value of one parameter,
// from the kept prompt's prefill (the prompt is not run again), measured against the full cache
// as compare measures it and summarised by the core's summarizeSweep, as `compare --sweep` does.
//
// Core headers first: some have members named `slots`, a Qt macro.
#include "compress/param_sweep.h"
#include "session/session.h"
#include "session/sweep_curves.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include "session_worker.h"

#include <QElapsedTimer>

namespace kvs::ui {
namespace {

QString messageOf(const std::exception& e) {
  if (dynamic_cast<const KvsError*>(&e)) return QString::fromStdString(e.what());
  return QStringLiteral("internal error: ") + QString::fromStdString(e.what());
}

// The text shown ends at end-of-text, as Output's and Compare's do.
QString textOf(const Tokenizer& tokenizer, const std::vector<int>& ids, bool atTextStart) {
  TokenStreamDecoder decoder(tokenizer, atTextStart);
  QString text;
  for (int id : ids) {
    if (id == tokenizer.bosId() || id == tokenizer.eosId()) break;
    text += QString::fromStdString(decoder.push(id));
  }
  return text + QString::fromStdString(decoder.finish());
}

}  // namespace

void SessionWorker::runSweep(const SweepRequest& request) {
  SweepStatus status;
  status.ticket = request.ticket;
  const auto stopped = [&] { return stop_ || (request.cancel && request.cancel->load()); };
  QElapsedTimer timer;
  timer.start();
  try {
    require(kept() != nullptr, "Run the prompt first: a sweep starts from its kept prefill");
    require(hasModel(), "a recording is open, without its model; load a model to sweep");
    const SweepPlan plan =
        makeSweepPlan(request.base, request.methods, parseParamSweep(request.sweep));
    status.total = static_cast<int>(plan.variants.size());
    Q_EMIT sweepProgress(status);
    qint64 shownAt = 0;
    const std::vector<VariantOutcome> outcomes =
        session_->compare(plan.variants, [&](int done, int) {
          status.done = done;
          status.seconds = timer.nsecsElapsed() / 1e9;
          // At most every 100 ms, so a fast model does not flood the GUI thread.
          if (timer.elapsed() - shownAt >= 100) {
            shownAt = timer.elapsed();
            Q_EMIT sweepProgress(status);
          }
          return !stopped();
        });
    status.curves = summarizeSweep(plan, {outcomes});
    const bool atTextStart = kept()->tokens() <= 1;
    for (const VariantOutcome& o : outcomes) {
      status.details.push_back({o.params,
                                textOf(session_->tokenizer(), o.generatedIds, atTextStart),
                                o.kvBytes, o.kvBytesFull, o.achievedRatio});
    }
    status.state = SweepStatus::State::kDone;
  } catch (const std::exception& e) {
    status.state = isCancelled(e) ? SweepStatus::State::kStopped : SweepStatus::State::kFailed;
    if (!isCancelled(e)) status.error = messageOf(e);
  }
  status.seconds = timer.nsecsElapsed() / 1e9;
  Q_EMIT sweepProgress(status);
}

}  // namespace kvs::ui
