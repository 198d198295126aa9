#include "session_controller.h"

#include "recording_state.h"
#include "session_worker.h"

namespace kvs::ui {

template <typename F>
void SessionController::post(F&& call) {
  QMetaObject::invokeMethod(
      worker_, [w = worker_, call = std::forward<F>(call)] { call(w); }, Qt::QueuedConnection);
}

SessionController::SessionController(QObject* parent)
    : QObject(parent),
      worker_(new SessionWorker),  // no parent: it moves to thread_ and is deleted there
      tickets_(worker_),
      recording_(new RecordingState(this)) {
  qRegisterMetaType<EvalRunRequest>();
  qRegisterMetaType<EvalRunStatus>();
  qRegisterMetaType<SweepRequest>();
  qRegisterMetaType<SweepStatus>();
  worker_->moveToThread(&thread_);
  thread_.setObjectName("session");
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  debounce_.setSingleShot(true);
  debounce_.setInterval(80);
  connect(&debounce_, &QTimer::timeout, this, &SessionController::regenerate);

  connect(worker_, &SessionWorker::modelLoaded, this, [this](const QString& d, int context) {
    loading_ = false;
    prompt_ = {};
    setBusy(false);
    Q_EMIT modelLoaded(d, context);
  });
  connect(worker_, &SessionWorker::modelDropped, this, [this] {
    prompt_ = {};
    recordingOpenBeforeLoad_ = false;  // a failed load now leaves nothing open
    Q_EMIT modelDropped();
  });
  connect(worker_, &SessionWorker::recordingDone, recording_, &RecordingState::done);
  connect(worker_, &SessionWorker::recordingDone, this, &SessionController::recordingDone);
  connect(worker_, &SessionWorker::recordingOpened, this, [this](const RecordingReport& r) {
    if (!isCurrentWork(r.ticket)) return;
    recordingOpen_ = true;
    prefilling_ = false;
    setBusy(false);
    Q_EMIT recordingOpened(r);
  });
  connect(worker_, &SessionWorker::phase, this, &SessionController::phase);
  connect(worker_, &SessionWorker::textReady, this, &SessionController::textReady);
  connect(worker_, &SessionWorker::progress, this, &SessionController::progress);
  connect(worker_, &SessionWorker::promptReady, this, [this](const PromptInfo& info) {
    if (!isCurrentWork(info.ticket)) return;
    prompt_ = info;
    prefilling_ = false;
    Q_EMIT promptReady(info);
    if (paramsPending_) {
      paramsPending_ = false;
      setParams(params_);
    }
  });
  connect(worker_, &SessionWorker::layoutReady, this, [this](const LayoutResult& r) {
    layout_ = r;
    Q_EMIT layoutReady(r);
  });
  connect(worker_, &SessionWorker::similarityReady, this, [this](const SimilarityResult& r) {
    if (tickets_.isCurrent(Request::kSimilarity, r.ticket)) Q_EMIT similarityReady(r);
  });
  connect(worker_, &SessionWorker::overviewReady, this, [this](const OverviewData& d) {
    if (tickets_.isCurrent(Request::kOverview, d.ticket)) Q_EMIT overviewReady(d);
  });
  connect(worker_, &SessionWorker::layerRatiosReady, this, [this](const LayerRatioResult& r) {
    const Request kind = r.batch ? Request::kLayerBatch : Request::kLayerRatios;
    if (tickets_.isCurrent(kind, r.ticket)) Q_EMIT layerRatiosReady(r);
  });
  connect(worker_, &SessionWorker::evaluationProgress, this, [this](const EvalRunStatus& s) {
    if (s.ticket == evalTicket_) Q_EMIT evaluationProgress(s);
  });
  connect(worker_, &SessionWorker::sweepProgress, this, [this](const SweepStatus& s) {
    if (s.ticket == sweepTicket_) Q_EMIT sweepProgress(s);
  });
  connect(worker_, &SessionWorker::compareReady, this, [this](const CompareResult& r) {
    if (isCurrentWork(r.ticket)) Q_EMIT compareReady(r);
  });
  connect(worker_, &SessionWorker::variantReady, this, [this](const VariantSummary& s) {
    if (!isCurrentWork(s.ticket)) return;  // stale
    if (s.reference) {
      reference_ = s;
      Q_EMIT referenceReady(s);
      return;
    }
    variant_ = s;
    Q_EMIT variantReady(s);
    if (!compresses(s.params)) {
      reference_ = s;
      Q_EMIT referenceReady(s);
    }
  });
  connect(worker_, &SessionWorker::finished, this, [this](const GenerationStats& stats) {
    if (!isCurrentWork(stats.ticket)) return;
    prefilling_ = false;
    if (!debounce_.isActive()) setBusy(false);
    Q_EMIT finished(stats);
  });
  connect(worker_, &SessionWorker::failed, this, [this](const QString& message, quint64 ticket) {
    if (ticket != 0 && !isCurrentWork(ticket)) return;
    if (ticket != 0) prefilling_ = false;
    if (loading_) recordingOpen_ = recordingOpenBeforeLoad_;  // the worker kept its prompt
    loading_ = false;
    if (!debounce_.isActive()) setBusy(false);
    Q_EMIT failed(message);
  });
  thread_.start();
}

SessionController::~SessionController() {
  worker_->requestStop();        // running work ends at its next check
  tickets_.take(Request::kRun);  // queued work returns at once
  thread_.quit();
  thread_.wait();
}

void SessionController::setBusy(bool busy) {
  if (busy_ == busy) return;
  busy_ = busy;
  Q_EMIT busyChanged(busy);
}

quint64 SessionController::startWork(Request kind) {
  const quint64 ticket = tickets_.take(kind);
  worker_->clearStop();  // a Stop pressed earlier must not end new work
  return ticket;
}

void SessionController::loadModel(const QString& path) {
  debounce_.stop();
  // The worker keeps the open recording until the model is read; failed restores this.
  recordingOpenBeforeLoad_ = recordingOpen_;
  recordingOpen_ = false;
  prefilling_ = paramsPending_ = false;
  startWork(Request::kLoad);  // drops queued work for the old model
  loading_ = true;
  setBusy(true);
  post([path](SessionWorker* w) { w->loadModel(path); });
}

void SessionController::run(const GenerationJob& job, const CompressionParams& params) {
  debounce_.stop();
  params_ = params;
  const quint64 ticket = startWork(Request::kRun);
  tickets_.take(Request::kLayout);  // the run emits its own layout
  prefilling_ = true;
  paramsPending_ = false;
  setBusy(true);
  // The recording armed in the window belongs to this run alone.
  post([job, params, ticket, recording = recording_->takeForRun()](SessionWorker* w) {
    w->run(job, params, ticket, recording);
  });
}

void SessionController::stop() {
  debounce_.stop();
  tickets_.cancel(Request::kRun);
}

void SessionController::setParams(const CompressionParams& params) {
  params_ = params;
  if (prefilling_) {
    paramsPending_ = true;
    return;
  }
  if (!hasPrompt() || loading_) return;
  if (recordingOpen_) {  // no model to decode with: the layout only
    previewLayout(params);
    return;
  }
  // A running decode of an older setting stops now, so the layout is not queued behind it.
  startWork(Request::kRegenerate);
  const quint64 layoutTicket = tickets_.take(Request::kLayout);
  post([params, layoutTicket](SessionWorker* w) { w->computeLayout(params, layoutTicket); });
  setBusy(true);
  debounce_.start();
}

void SessionController::regenerate() {
  const quint64 ticket = startWork(Request::kRegenerate);
  post([p = params_, ticket](SessionWorker* w) { w->regenerate(p, ticket); });
}

void SessionController::requestSimilarity(int source, int layer, int head) {
  if (!hasPrompt()) return;
  const quint64 ticket = tickets_.take(Request::kSimilarity);
  post([source, layer, head, ticket](SessionWorker* w) {
    w->computeSimilarity(source, layer, head, ticket);
  });
}

void SessionController::compare(const QVector<CompressionParams>& variants) {
  // Not while other work runs (Run is disabled then too), nor without a model to decode with.
  if (!hasPrompt() || loading_ || busy_ || recordingOpen_) return;
  debounce_.stop();
  const quint64 ticket = startWork(Request::kCompare);
  setBusy(true);
  post([variants, ticket](SessionWorker* w) { w->compare(variants, ticket); });
}

void SessionController::previewLayout(const CompressionParams& params) {
  if (!hasPrompt() || loading_ || prefilling_) return;
  const quint64 ticket = tickets_.take(Request::kLayout);
  post([params, ticket](SessionWorker* w) { w->computeLayout(params, ticket); });
}

void SessionController::requestOverview(int source, int size) {
  if (!hasPrompt()) return;
  const quint64 ticket = tickets_.take(Request::kOverview);
  post([source, size, ticket](SessionWorker* w) { w->computeOverview(source, size, ticket); });
}

void SessionController::openRecording(const QString& path, const CompressionParams& params) {
  debounce_.stop();
  params_ = params;
  paramsPending_ = false;
  const quint64 ticket = startWork(Request::kOpenRecording);
  tickets_.take(Request::kLayout);  // opening emits its own layout
  prefilling_ = true;               // a parameter change waits for the recording's prompt
  setBusy(true);
  post([path, params, ticket](SessionWorker* w) { w->openRecording(path, params, ticket); });
}

void SessionController::requestLayerRatios(LayerRatioRequest request) {
  if (request.promptsFile.isEmpty()) {
    request.ticket = tickets_.take(Request::kLayerRatios);
    // Skipped on the worker when a newer curve was asked for meanwhile (a slider drag).
    post([request, newest = tickets_.newestOf(Request::kLayerRatios)](SessionWorker* w) {
      if (newest->load() == request.ticket) w->computeLayerRatios(request);
    });
    return;
  }
  // A batch is new work, as a run is: a Stop pressed earlier must not end it. Taking the ticket
  // cancels a running batch.
  request.ticket = tickets_.take(Request::kLayerBatch);
  request.cancel = tickets_.cancelFlag(Request::kLayerBatch);
  worker_->clearStop();
  post([request](SessionWorker* w) { w->computeLayerRatios(request); });
}

void SessionController::stopLayerRatios() {
  tickets_.cancel(Request::kLayerBatch);
}

void SessionController::requestEvaluation(EvalRunRequest request) {
  // New work, as a batch is: a Stop pressed earlier must not end it; the running one is cancelled.
  if (evalCancel_) evalCancel_->store(true);
  evalCancel_ = std::make_shared<std::atomic<bool>>(false);
  request.ticket = ++evalTicket_;
  request.cancel = evalCancel_;
  worker_->clearStop();
  post([request](SessionWorker* w) { w->runEvaluation(request); });
}

void SessionController::stopEvaluation() {
  if (evalCancel_) evalCancel_->store(true);
}

void SessionController::requestSweep(SweepRequest request) {
  // New work, as an evaluation is: a Stop pressed earlier must not end it.
  if (sweepCancel_) sweepCancel_->store(true);
  sweepCancel_ = std::make_shared<std::atomic<bool>>(false);
  request.ticket = ++sweepTicket_;
  request.cancel = sweepCancel_;
  worker_->clearStop();
  post([request](SessionWorker* w) { w->runSweep(request); });
}

void SessionController::stopSweep() {
  if (sweepCancel_) sweepCancel_->store(true);
}

}  // namespace kvs::ui
