// Core headers first: some have members named `slots`, a Qt macro.
#include "io/recording_options.h"

#include "session_controller.h"

#include "session_worker.h"

namespace kvs::ui {

SessionController::SessionController(QObject* parent) : QObject(parent) {
  worker_ = new SessionWorker;  // no parent: it moves to thread_ and is deleted there
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
    emit modelLoaded(d, context);
  });
  connect(worker_, &SessionWorker::recordingDone, this, &SessionController::recordingDone);
  connect(worker_, &SessionWorker::recordingOpened, this, [this](const RecordingReport& r) {
    if (r.ticket != workTicket_) return;
    recordingOpen_ = true;
    prefilling_ = false;
    setBusy(false);
    emit recordingOpened(r);
  });
  connect(worker_, &SessionWorker::phase, this, &SessionController::phase);
  connect(worker_, &SessionWorker::textReady, this, &SessionController::textReady);
  connect(worker_, &SessionWorker::progress, this, &SessionController::progress);
  connect(worker_, &SessionWorker::promptReady, this, [this](const PromptInfo& info) {
    if (info.ticket != workTicket_) return;
    prompt_ = info;
    prefilling_ = false;
    emit promptReady(info);
    if (paramsPending_) {
      paramsPending_ = false;
      setParams(params_);
    }
  });
  connect(worker_, &SessionWorker::layoutReady, this, [this](const LayoutResult& r) {
    layout_ = r;
    emit layoutReady(r);
  });
  connect(worker_, &SessionWorker::similarityReady, this, &SessionController::similarityReady);
  connect(worker_, &SessionWorker::overviewReady, this, &SessionController::overviewReady);
  connect(worker_, &SessionWorker::compareReady, this, [this](const CompareResult& r) {
    if (r.ticket == workTicket_) emit compareReady(r);
  });
  connect(worker_, &SessionWorker::variantReady, this, [this](const VariantSummary& s) {
    if (s.ticket != workTicket_) return;  // stale
    if (s.reference) {
      reference_ = s;
      emit referenceReady(s);
      return;
    }
    variant_ = s;
    emit variantReady(s);
    if (s.params.method == Method::kFull) {
      reference_ = s;
      emit referenceReady(s);
    }
  });
  connect(worker_, &SessionWorker::finished, this, [this](const GenerationStats& stats) {
    if (stats.ticket != workTicket_) return;
    prefilling_ = false;
    if (!debounce_.isActive()) setBusy(false);
    emit finished(stats);
  });
  connect(worker_, &SessionWorker::failed, this, [this](const QString& message, quint64 ticket) {
    if (ticket != 0 && ticket != workTicket_) return;
    if (ticket != 0) prefilling_ = false;
    if (loading_) prompt_ = {};
    loading_ = false;
    if (!debounce_.isActive()) setBusy(false);
    emit failed(message);
  });
  thread_.start();
}

SessionController::~SessionController() {
  worker_->requestStop();  // running work ends at its next check
  worker_->takeTicket(SessionWorker::kWork);
  thread_.quit();
  thread_.wait();
}

void SessionController::setBusy(bool busy) {
  if (busy_ == busy) return;
  busy_ = busy;
  emit busyChanged(busy);
}

void SessionController::loadModel(const QString& path) {
  debounce_.stop();
  recordingOpen_ = false;  // the worker drops everything before loading
  prefilling_ = paramsPending_ = false;
  workTicket_ = worker_->takeTicket(SessionWorker::kWork);  // drops queued work for the old model
  worker_->clearStop();
  loading_ = true;
  setBusy(true);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, path] { w->loadModel(path); }, Qt::QueuedConnection);
}

void SessionController::run(const GenerationJob& job, const CompressionParams& params) {
  debounce_.stop();
  params_ = params;
  workTicket_ = worker_->takeTicket(SessionWorker::kWork);
  worker_->takeTicket(SessionWorker::kLayout);  // the run emits its own layout
  worker_->clearStop();
  prefilling_ = true;
  paramsPending_ = false;
  setBusy(true);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, job, params, t = workTicket_] { w->run(job, params, t); },
      Qt::QueuedConnection);
}

void SessionController::stop() {
  debounce_.stop();
  worker_->requestStop();
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
  workTicket_ = worker_->takeTicket(SessionWorker::kWork);
  const quint64 layoutTicket = worker_->takeTicket(SessionWorker::kLayout);
  worker_->clearStop();
  QMetaObject::invokeMethod(
      worker_, [w = worker_, params, layoutTicket] { w->computeLayout(params, layoutTicket); },
      Qt::QueuedConnection);
  setBusy(true);
  debounce_.start();
}

void SessionController::regenerate() {
  workTicket_ = worker_->takeTicket(SessionWorker::kWork);
  worker_->clearStop();
  QMetaObject::invokeMethod(
      worker_, [w = worker_, p = params_, t = workTicket_] { w->regenerate(p, t); },
      Qt::QueuedConnection);
}

void SessionController::requestSimilarity(int source, int layer, int head) {
  if (!hasPrompt()) return;
  const quint64 ticket = worker_->takeTicket(SessionWorker::kSimilarity);
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, source, layer, head, ticket] {
        w->computeSimilarity(source, layer, head, ticket);
      },
      Qt::QueuedConnection);
}

void SessionController::compare(const QVector<CompressionParams>& variants) {
  if (!hasPrompt() || loading_) return;
  debounce_.stop();
  workTicket_ = worker_->takeTicket(SessionWorker::kWork);
  worker_->clearStop();
  setBusy(true);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, variants, t = workTicket_] { w->compare(variants, t); },
      Qt::QueuedConnection);
}

void SessionController::previewLayout(const CompressionParams& params) {
  if (!hasPrompt() || loading_ || prefilling_) return;
  const quint64 ticket = worker_->takeTicket(SessionWorker::kLayout);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, params, ticket] { w->computeLayout(params, ticket); },
      Qt::QueuedConnection);
}

void SessionController::requestOverview(int source, int size) {
  if (!hasPrompt()) return;
  const quint64 ticket = worker_->takeTicket(SessionWorker::kOverview);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, source, size, ticket] { w->computeOverview(source, size, ticket); },
      Qt::QueuedConnection);
}

}  // namespace kvs::ui

namespace kvs::ui {

void SessionController::recordNextRun(const RecordingOptions& options) {
  QMetaObject::invokeMethod(
      worker_, [w = worker_, options] { w->armRecording(options); }, Qt::QueuedConnection);
}

void SessionController::openRecording(const QString& path, const CompressionParams& params) {
  debounce_.stop();
  params_ = params;
  paramsPending_ = false;
  workTicket_ = worker_->takeTicket(SessionWorker::kWork);
  worker_->takeTicket(SessionWorker::kLayout);  // opening emits its own layout
  worker_->clearStop();
  prefilling_ = true;  // a parameter change waits for the recording's prompt
  setBusy(true);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, path, params, t = workTicket_] { w->openRecording(path, params, t); },
      Qt::QueuedConnection);
}

}  // namespace kvs::ui
