// SessionWorker's evaluation slot (session_worker.h): a needle grid or LongBench tasks on the
// loaded model, run as `kvstudio-cli eval needle` / `eval longbench` run them (the same core
// calls, the same records), reported to the Evaluation panel as it goes.
//
// Core headers first: some have members named `slots`, a Qt macro.
#include "compress/compression_method.h"
#include "eval/eval_records.h"
#include "eval/longbench_run.h"
#include "eval/longbench_tasks.h"
#include "eval/needle.h"
#include "model/llama_model.h"
#include "session/session.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include "session_worker.h"

#include <QElapsedTimer>
#include <QFile>
#include <optional>

namespace kvs::ui {
namespace {

QString messageOf(const std::exception& e) {
  if (dynamic_cast<const KvsError*>(&e)) return QString::fromStdString(e.what());
  return QStringLiteral("internal error: ") + QString::fromStdString(e.what());
}

std::string local(const QString& path) {
  return QFile::encodeName(path).toStdString();
}

// The CLI's --methods x --budgets grid (cli/compression_options.cpp settingsGrid) over the core's
// defaults: the full cache first, then one setting per compressing method and budget. The same
// defaults as the CLI's give the same params, so a file started by the CLI resumes here.
std::vector<CompressionParams> settingsGrid(const EvalRunRequest& r, const LlamaModel& model) {
  require(!r.methods.empty(), "no methods; give e.g. full,kvmerger,h2o");
  require(!r.budgets.empty(), "no budgets; give fractions such as 0.5,0.35");
  std::vector<CompressionParams> settings{CompressionParams{}};
  for (const std::string& name : r.methods) {
    const CompressionMethod& method = methodNamed(name);  // an unknown name lists the known ones
    if (!method.compresses()) continue;
    for (double budget : r.budgets) {
      CompressionParams p;
      p.method = method.name();
      p.budget = budget;
      p.validateForModel(model.config().nLayers, model.kvDtype() == at::kFloat);
      settings.push_back(p);
    }
  }
  return settings;
}

}  // namespace

void SessionWorker::runEvaluation(const EvalRunRequest& request) {
  EvalRunStatus status;
  status.kind = request.kind == EvalRunRequest::Kind::kNeedle ? QStringLiteral("needle")
                                                              : QStringLiteral("longbench");
  status.outPath = request.outPath;
  status.ticket = request.ticket;
  const auto stopped = [&] { return stop_ || (request.cancel && request.cancel->load()); };
  std::optional<eval::EvalRecords> records;
  QElapsedTimer timer;
  timer.start();
  qint64 shownAt = 0;
  size_t sent = 0;  // records already in a status
  const auto takeNewRecords = [&] {
    const std::vector<nlohmann::json>& all = records->records();
    status.recordsFrom = static_cast<int>(sent);
    status.records.assign(all.begin() + static_cast<std::ptrdiff_t>(sent), all.end());
    status.recordCount = static_cast<int>(all.size());
    sent = all.size();
  };
  // Partial results at most every 250 ms: a small model finishes many cells a second, and each
  // status carries the new records, which the GUI thread redraws.
  const eval::EvalProgress progress = [&](int done, int total) {
    status.done = done;
    status.total = total;
    if (timer.elapsed() - shownAt >= 250) {
      shownAt = timer.elapsed();
      status.seconds = timer.nsecsElapsed() / 1e9;
      takeNewRecords();
      Q_EMIT evaluationProgress(status);
    }
    return !stopped();
  };
  try {
    require(hasModel(), "no model is loaded; load a model to evaluate it");
    require(!request.outPath.trimmed().isEmpty(), "no results file; choose where to write it");
    if (stopped()) throw KvsError("cancelled");
    const LlamaModel& model = session_->model();
    const Tokenizer& tokenizer = session_->tokenizer();
    const std::vector<CompressionParams> settings = settingsGrid(request, model);
    std::vector<std::string> notes;
    const auto openRecords = [&](const std::string& modelName) {
      records.emplace(eval::EvalRecords::open(local(request.outPath), modelName, &notes));
      for (const std::string& n : notes) status.notes << QString::fromStdString(n);
      status.resumed = static_cast<int>(records->records().size());
      takeNewRecords();
      Q_EMIT evaluationProgress(status);
    };
    const std::string modelName = request.model.toStdString();
    if (request.kind == EvalRunRequest::Kind::kNeedle) {
      eval::NeedleRun run;
      run.lengths = request.lengths;
      run.depths = request.depths;
      run.settings = settings;
      run.needles = {eval::defaultNeedle()};
      run.haystackName =
          request.haystack.isEmpty() ? eval::defaultHaystackPath() : local(request.haystack);
      run.haystack = eval::readHaystack(run.haystackName);
      run.model = modelName;
      eval::checkNeedleRun(model, tokenizer, run);  // before the file is made
      openRecords(modelName);
      eval::runNeedle(model, tokenizer, run, *records, progress);
    } else {
      const eval::LongBenchTasks tasks = eval::LongBenchTasks::load(eval::findLongBenchDataDir());
      require(!request.tasks.empty(), "no tasks; give LongBench task names, e.g. trec,qasper");
      for (const std::string& name : request.tasks) tasks.scorable(name);
      require(!request.dataDir.trimmed().isEmpty(),
              "no data folder; choose the folder of LongBench's <task>.jsonl files");
      eval::LongBenchRun run;
      run.dataDir = local(request.dataDir);
      run.tasks = request.tasks;
      run.settings = settings;
      run.model = modelName;
      run.limit = request.limit;
      openRecords(modelName);
      eval::runLongBench(model, tokenizer, tasks, run, *records, progress);
    }
    status.state = EvalRunStatus::State::kDone;
  } catch (const std::exception& e) {
    const bool cancelled = isCancelled(e);
    status.state = cancelled ? EvalRunStatus::State::kStopped : EvalRunStatus::State::kFailed;
    if (!cancelled) status.error = messageOf(e);
  }
  status.records.clear();
  status.recordsFrom = static_cast<int>(sent);
  if (records) takeNewRecords();
  status.seconds = timer.nsecsElapsed() / 1e9;
  Q_EMIT evaluationProgress(status);
}

}  // namespace kvs::ui
