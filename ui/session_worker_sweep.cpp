// SessionWorker's sweep slot (session_worker.h): every method at every value of one parameter,
// measured against the full cache as compare measures it and summarised by the core's
// summarizeSweep, as `compare --sweep` does: from the kept prompt's prefill (the prompt is not
// run again), or over a prompts file, each prompt prefilled once as compare does.
//
// Core headers first: some have members named `slots`, a Qt macro.
#include "analysis/layer_ratios.h"
#include "compress/param_sweep.h"
#include "session/comparison.h"
#include "session/session.h"
#include "session/sweep_curves.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include "session_worker.h"

#include <QElapsedTimer>
#include <QFile>
#include <algorithm>

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

// What a click shows of an outcome; its cells are summarised here and not sent on (a large
// model's slots, times every variant and prompt, would be far more than the GUI needs).
SweepVariantDetail detailOf(const Tokenizer& tokenizer, const VariantOutcome& o, bool atStart) {
  SweepVariantDetail d{o.params, textOf(tokenizer, o.generatedIds, atStart), o.kvBytes,
                       o.kvBytesFull, o.achievedRatio};
  for (const auto& layer : o.cells.slots) {
    for (const auto& head : layer) {
      for (const Slot& s : head) {
        if (s.count <= 1) continue;
        ++d.mergedSets;
        d.mergedTokens += s.count;
        d.largestSet = std::max(d.largestSet, s.count);
      }
    }
  }
  return d;
}

}  // namespace

void SessionWorker::runSweep(const SweepRequest& request) {
  SweepStatus status;
  status.ticket = request.ticket;
  const auto stopped = [&] { return stop_ || (request.cancel && request.cancel->load()); };
  QElapsedTimer timer;
  timer.start();
  try {
    const bool file = !request.promptsFile.isEmpty();
    require(hasModel(), file ? "no model is loaded; choose a model file first"
                             : "a recording is open, without its model; load a model to sweep");
    require(file || kept() != nullptr,
            "Run the prompt first: a sweep starts from its kept prefill (or choose a prompts "
            "file)");
    const SweepPlan plan =
        makeSweepPlan(request.base, request.methods, parseParamSweep(request.sweep));
    const std::vector<std::string> prompts =
        file ? readPromptsFile(QFile::encodeName(request.promptsFile).toStdString())
             : std::vector<std::string>{};
    const int variants = static_cast<int>(plan.variants.size());
    status.promptCount = file ? static_cast<int>(prompts.size()) : 1;
    status.total = variants * status.promptCount;
    Q_EMIT sweepProgress(status);
    qint64 shownAt = 0;
    const auto progress = [&](int done, int) {
      status.done = status.prompt * variants + done;
      status.seconds = timer.nsecsElapsed() / 1e9;
      // At most every 100 ms, so a fast model does not flood the GUI thread.
      if (timer.elapsed() - shownAt >= 100) {
        shownAt = timer.elapsed();
        Q_EMIT sweepProgress(status);
      }
      return !stopped();
    };
    ComparisonHooks hooks;
    hooks.keepCells = true;  // the merging sets a click shows
    std::vector<std::vector<VariantOutcome>> outcomes;
    const Tokenizer& tokenizer = session_->tokenizer();
    const auto keep = [&](std::vector<VariantOutcome> prompt, bool atStart) {
      status.details.emplace_back();
      for (VariantOutcome& o : prompt) {
        status.details.back().push_back(detailOf(tokenizer, o, atStart));
        o.cells = {};
        o.decisions.clear();
      }
      outcomes.push_back(std::move(prompt));
    };
    if (!file) {
      // Session::compare's call, with the cells kept.
      keep(compareVariants(session_->model(), *kept(), session_->keptRequest().steps, plan.variants,
                           progress, hooks),
           kept()->tokens() <= 1);
    }
    for (; file && status.prompt < status.promptCount; ++status.prompt) {
      if (stopped()) throw KvsError("cancelled");
      // As compare builds each prompt's request: greedy, every step decoded.
      PromptSpec spec;
      spec.text = prompts[status.prompt];
      spec.newTokens = request.newTokens;
      spec.sampling.temperature = 0.0f;
      spec.stopAtBosEos = false;
      spec.newTokensName = "new tokens";
      spec.name = "prompt " + std::to_string(status.prompt + 1) + " of " +
                  request.promptsFile.toStdString();
      spec.promptFix = "edit the prompts file";
      const GenerationRequest r = session_->request(spec);
      keep(compareVariants(session_->model(), r.promptIds, r.steps, plan.variants, progress, hooks),
           r.promptIds.size() <= 1);
      status.prompts << QString::fromStdString(spec.text);
    }
    status.curves = summarizeSweep(plan, outcomes);
    status.done = status.total;
    status.state = SweepStatus::State::kDone;
  } catch (const std::exception& e) {
    status.state = isCancelled(e) ? SweepStatus::State::kStopped : SweepStatus::State::kFailed;
    if (!isCancelled(e)) status.error = messageOf(e);
    status.details.clear();  // nothing half-measured is sent
    status.prompts.clear();
  }
  status.seconds = timer.nsecsElapsed() / 1e9;
  Q_EMIT sweepProgress(status);
}

}  // namespace kvs::ui
