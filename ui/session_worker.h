#pragma once
// SessionWorker: lives on its own QThread and owns the kvs::Session: the model, the tokenizer and
// the prompt's kept prefill state. Loading, prefill, compression and decoding all run here, as
// thin calls of the Session; results leave as value types (session_types.h).
//
// Newest request wins (Qt's Mandelbrot example): each request carries a ticket; taking a new
// ticket of a kind makes the running request of that kind stop at its next check (per layer in
// prefill and compression, per token in decoding) and queued older ones return at once.
// Stop (requestStop) ends whatever runs. Both are atomics, set directly from the GUI thread:
// a queued call would wait behind the work it is meant to stop.

#include <QObject>
#include <QString>
#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval_types.h"
#include "generation_job.h"
#include "generation_stats.h"
#include "io/recording_options.h"
#include "layer_ratio_types.h"
#include "session_types.h"
#include "sweep_types.h"

namespace kvs {
class Session;
struct DecodeResult;
struct GenerationRequest;
struct PrefillState;
struct PromptSpec;
}  // namespace kvs

namespace kvs::ui {

class RunRecording;

class SessionWorker : public QObject {
  Q_OBJECT

 public:
  // Work (run, regenerate) supersedes work; layouts and similarity views supersede their own kind.
  enum Kind { kWork, kLayout, kSimilarity, kOverview, kKinds };

  explicit SessionWorker(QObject* parent = nullptr);
  ~SessionWorker() override;

  // Thread-safe, from the GUI thread.
  quint64 takeTicket(Kind kind) { return ++latest_[kind]; }
  void requestStop() { stop_ = true; }
  void clearStop() { stop_ = false; }

 public Q_SLOTS:
  // Loads path and the tokenizer next to it; they replace the current model (or opened recording)
  // only once read, so a failed load keeps it. Loading one file cannot be interrupted; a Stop
  // pressed meanwhile discards the new model once it is read.
  void loadModel(const QString& path);
  // Prefill (kept), layout, then the continuation under params, streamed as textReady; then the
  // full cache's continuation for comparison (variantReady with reference set). With recording,
  // the run records its prefill, decode taps and variants as `kvstudio-cli generate --record`
  // does, and recordingDone reports it (session_worker_recording.cpp), whether or not the run
  // got far enough to record.
  void run(const kvs::ui::GenerationJob& job, const kvs::CompressionParams& params, quint64 ticket,
           std::optional<kvs::RecordingOptions> recording = std::nullopt);
  // From the kept prefill: the layout only (fast), or the continuation again (variantReady).
  void computeLayout(const kvs::CompressionParams& params, quint64 ticket);
  void regenerate(const kvs::CompressionParams& params, quint64 ticket);
  // source: kvs::SimilaritySource; head -1 = mean over heads.
  void computeSimilarity(int source, int layer, int head, quint64 ticket);
  // The kept prompt's variants against the full cache, greedy, from the kept prefill (the prompt
  // is not run again); a compare is work, so a run or a new setting supersedes it.
  void compare(const QVector<kvs::CompressionParams>& variants, quint64 ticket);
  // Thumbnails of every (layer, head) of source, each over `size` tokens, and the curves.
  void computeOverview(int source, int size, quint64 ticket);
  // Recording (session_worker_recording.cpp). Drops the model and keeps the recording's prompt
  // instead: promptReady, layoutReady under params and the recorded continuation (variantReady),
  // then recordingOpened.
  void openRecording(const QString& path, const kvs::CompressionParams& params, quint64 ticket);

 Q_SIGNALS:
  void modelLoaded(const QString& description, int contextLength);
  // A load let go of the previous model (or opened recording), its new checkpoint's header read.
  void modelDropped();
  void phase(const QString& what);  // "prefill", "compressing", "decoding", ...
  void promptReady(const kvs::ui::PromptInfo& info);
  void layoutReady(const kvs::ui::LayoutResult& result);
  void similarityReady(const kvs::ui::SimilarityResult& result);
  void overviewReady(const kvs::ui::OverviewData& data);
  void compareReady(const kvs::ui::CompareResult& result);
  void textReady(const QString& chunk);
  void progress(int done, int total);  // positions run of the requested steps; layers loaded
  void variantReady(const kvs::ui::VariantSummary& summary);
  // Once per run or regeneration that ends (done or stopped); superseded ones emit nothing.
  void finished(const kvs::ui::GenerationStats& stats);
  void failed(const QString& message, quint64 ticket);
  void recordingDone(const kvs::ui::RecordingReport& report);
  void recordingOpened(const kvs::ui::RecordingReport& report);

 private:
  bool current(Kind kind, quint64 ticket) const { return latest_[kind] == ticket; }
  bool hasModel() const;
  const PrefillState* kept() const;  // the kept prompt's prefill; null before any
  // Decodes params from the kept state; streams text when stream is set; emits variantReady and
  // fills *stats (not for the reference). Returns false when superseded (nothing emitted).
  bool decodeVariant(const CompressionParams& params, quint64 ticket, bool stream, bool reference,
                     GenerationStats* stats);
  void runChecked(const GenerationJob& job, const CompressionParams& params, quint64 ticket);
  void emitLayout(const CompressionParams& params, quint64 ticket);
  // A stop is reported as a cancelled finish; anything else as failed.
  void reportFailure(const std::exception& e, quint64 ticket);
  // Recording a run: the recorder is made before the prefill (a file that cannot be made is
  // reported by recordingDone and the run goes on, as in the CLI), sees the taps while it runs,
  // and is closed, complete or not, by endRecording.
  // Reports an armed recording that its run never started (superseded, or failed before), so
  // it cannot carry over to a later run.
  void dropArmedRecording(quint64 ticket, const QString& why);
  void startRecording(const PromptSpec& spec, const GenerationRequest& request,
                      const CompressionParams& params);
  void recordVariant(const CompressionParams& params, const DecodeResult& r);
  void endRecording(bool finish, quint64 ticket);
  void openRecordingChecked(const QString& path, const CompressionParams& params, quint64 ticket);
  // Empty when source can be shown; else why not (an opened recording that lacks it).
  QString missingSource(int source) const;

  // The loaded model, or an opened recording's prompt without one; null before either.
  std::unique_ptr<Session> session_;
  QString modelName_;
  std::unique_ptr<RecordingOptions> armed_;
  std::unique_ptr<RunRecording> recorder_;  // during a recorded run only
  QString recording_;                       // the opened recording (no model), else empty
  std::vector<bool> recorded_;              // opened: per SimilaritySource, in the file
  int queryHeads_ = 0;                      // Hq, for the attention overview without a model
  std::atomic<quint64> latest_[kKinds] = {};
  std::atomic<bool> stop_{false};

  // --- Layer-wise compression ratios (defined in session_worker_batch.cpp) ---
 public Q_SLOTS:
  // The kept prompt's per-layer ratios (request.promptsFile empty), or a forward pass per prompt
  // of a prompts file, reported as it goes (at most every 100 ms) and at the end; a batch ends on
  // request.cancel or Stop.
  void computeLayerRatios(const kvs::ui::LayerRatioRequest& request);
 Q_SIGNALS:
  void layerRatiosReady(const kvs::ui::LayerRatioResult& result);

  // --- Evaluation runs (defined in session_worker_eval.cpp) ---
 public Q_SLOTS:
  // A needle grid or LongBench tasks on the loaded model, each record appended to
  // request.outPath as it finishes (a file of the same model resumes); reported as it goes and
  // at the end; ends on request.cancel or Stop after the record being written.
  void runEvaluation(const kvs::ui::EvalRunRequest& request);
 Q_SIGNALS:
  void evaluationProgress(const kvs::ui::EvalRunStatus& status);

  // --- Quality against a swept parameter (defined in session_worker_sweep.cpp) ---
 public Q_SLOTS:
  // Every method of request at every value of its sweep, from the kept prefill, measured as
  // compare measures; reported as it goes (at most every 100 ms) and at the end; ends on
  // request.cancel or Stop after the variant being decoded.
  void runSweep(const kvs::ui::SweepRequest& request);
 Q_SIGNALS:
  void sweepProgress(const kvs::ui::SweepStatus& status);
};

}  // namespace kvs::ui
