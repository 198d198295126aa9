#pragma once
// SessionController: the GUI thread's side of the SessionWorker. It owns the worker's thread,
// turns user actions into tickets (one tracker, RequestTickets, for every kind of request) and
// queued calls, drops stale results, debounces parameter changes (the layout is asked for at once,
// the continuation after a pause), keeps the newest results for the views, and holds the armed
// recording (RecordingState) that the next run takes.

#include <QObject>
#include <QThread>
#include <QTimer>

#include "eval_types.h"
#include "generation_job.h"
#include "generation_stats.h"
#include "layer_ratio_types.h"
#include "request_tickets.h"
#include "session_types.h"
#include "sweep_types.h"

namespace kvs::ui {

class RecordingState;
class SessionWorker;

class SessionController : public QObject {
  Q_OBJECT

 public:
  explicit SessionController(QObject* parent = nullptr);
  ~SessionController() override;

  SessionWorker* worker() const { return worker_; }
  bool busy() const { return busy_; }
  bool hasPrompt() const { return prompt_.layers > 0; }
  const PromptInfo& prompt() const { return prompt_; }
  const LayoutResult& layout() const { return layout_; }
  const VariantSummary& variant() const { return variant_; }
  const VariantSummary& reference() const { return reference_; }
  const kvs::CompressionParams& params() const { return params_; }
  // A recording is open instead of a model: layouts and views work, decoding does not.
  bool recordingOpen() const { return recordingOpen_; }
  // Armed, the next run() takes it and records (the GUI thread has asked about overwriting).
  RecordingState* recording() const { return recording_; }
  // Pause after the last parameter change before the continuation is decoded again.
  void setDebounceMs(int ms) { debounce_.setInterval(ms); }

 public Q_SLOTS:
  void loadModel(const QString& path);
  void run(const kvs::ui::GenerationJob& job, const kvs::CompressionParams& params);
  void stop();
  // Layout at once; continuation after the debounce (newest wins).
  void setParams(const kvs::CompressionParams& params);
  void requestSimilarity(int source, int layer, int head);
  void requestOverview(int source, int size);
  void compare(const QVector<kvs::CompressionParams>& variants);
  // The merging layout of params on the views, without decoding (a Compare row's sets).
  void previewLayout(const kvs::CompressionParams& params);
  // Reads the recording on the worker; it replaces the model and the prompt when it is readable.
  void openRecording(const QString& path, const kvs::CompressionParams& params);
  // The kept prompt's per-layer ratios (newest wins), or a batch over request.promptsFile (a new
  // batch cancels the running one). Tickets and the cancel flag are set here.
  void requestLayerRatios(kvs::ui::LayerRatioRequest request);
  // Ends the running batch only (Stop ends it too, with everything else).
  void stopLayerRatios();
  // An evaluation run on the worker (a new one cancels the running one); it shares the worker
  // with runs, so a Run waits for it. Stop ends it too, keeping the records written.
  void requestEvaluation(kvs::ui::EvalRunRequest request);
  // Ends the running evaluation only, after the record being written.
  void stopEvaluation();
  // A sweep from the kept prefill on the worker (a new one cancels the running one); it shares the
  // worker with runs. Stop ends it too.
  void requestSweep(kvs::ui::SweepRequest request);
  // Ends the running sweep only, after the variant being decoded.
  void stopSweep();

 Q_SIGNALS:
  void busyChanged(bool busy);
  void modelLoaded(const QString& description, int contextLength);
  void modelDropped();  // the load under way let go of the previous model or recording
  void phase(const QString& what);
  void promptReady(const kvs::ui::PromptInfo& info);
  void layoutReady(const kvs::ui::LayoutResult& result);
  void similarityReady(const kvs::ui::SimilarityResult& result);
  void overviewReady(const kvs::ui::OverviewData& data);
  void compareReady(const kvs::ui::CompareResult& result);
  void textReady(const QString& chunk);
  void progress(int done, int total);
  void variantReady(const kvs::ui::VariantSummary& summary);
  void referenceReady(const kvs::ui::VariantSummary& summary);
  void finished(const kvs::ui::GenerationStats& stats);
  void failed(const QString& message);
  void recordingDone(const kvs::ui::RecordingReport& report);
  void recordingOpened(const kvs::ui::RecordingReport& report);
  void layerRatiosReady(const kvs::ui::LayerRatioResult& result);
  void evaluationProgress(const kvs::ui::EvalRunStatus& status);
  void sweepProgress(const kvs::ui::SweepStatus& status);

 private:
  void regenerate();
  void setBusy(bool busy);
  // A ticket for work (run, regenerate, compare, load, open), with an earlier Stop cleared.
  quint64 startWork(Request kind);
  // Run, regenerate, compare and opening a recording share the work lane: any current one.
  bool isCurrentWork(quint64 ticket) const { return tickets_.isCurrent(Request::kRun, ticket); }
  // Queues call(worker) on the worker's thread (session_controller.cpp).
  template <typename F>
  void post(F&& call);

  QThread thread_;
  SessionWorker* worker_;
  RequestTickets tickets_;
  RecordingState* recording_;
  QTimer debounce_;
  bool busy_ = false;
  bool loading_ = false;
  bool recordingOpenBeforeLoad_ = false;  // restored when a load fails
  // A run before its prompt is prefilled: a parameter change waits for it rather than supersede
  // it (the kept prefill it would decode from is being replaced).
  bool prefilling_ = false;
  bool paramsPending_ = false;
  bool recordingOpen_ = false;
  PromptInfo prompt_;
  LayoutResult layout_;
  VariantSummary variant_, reference_;
  kvs::CompressionParams params_;
  // The evaluation lane: its newest ticket (older statuses are dropped) and the running run's
  // cancel flag, replaced by each new run.
  quint64 evalTicket_ = 0;
  std::shared_ptr<std::atomic<bool>> evalCancel_;
  // The sweep lane, as the evaluation's.
  quint64 sweepTicket_ = 0;
  std::shared_ptr<std::atomic<bool>> sweepCancel_;
};

}  // namespace kvs::ui
