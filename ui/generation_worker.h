#pragma once
// GenerationWorker: lives on its own QThread and owns the model and tokenizer, so loading and
// generating never block the GUI. Everything it emits is a value type; no tensor or pointer into
// its memory crosses threads.

#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

#include "generation_job.h"
#include "generation_stats.h"

namespace kvs {
class LlamaModel;
class Tokenizer;
}  // namespace kvs

namespace kvs::ui {

class GenerationWorker : public QObject {
  Q_OBJECT

 public:
  explicit GenerationWorker(QObject* parent = nullptr);
  ~GenerationWorker() override;

  // Thread-safe, called directly from the GUI thread: a queued call would wait behind the
  // generation it is meant to stop. The running generation ends after its current token.
  void requestStop() { stop_ = true; }
  // Called before queueing a generation, so a Stop pressed in between is not lost.
  void clearStop() { stop_ = false; }

 public slots:
  // Drops the current model first (two large models need not fit at once), then loads path and
  // the tokenizer next to it. Emits modelLoaded or failed.
  void loadModel(const QString& path);
  // Emits the prompt's text, then the continuation in chunks, progress per token, and finally
  // finished or failed.
  void generate(const kvs::ui::GenerationJob& job);

 signals:
  void modelLoaded(const QString& description, int contextLength);
  void textReady(const QString& chunk);
  void progress(int done, int total);  // positions run of the requested steps
  void finished(const kvs::ui::GenerationStats& stats);
  void failed(const QString& message);

 private:
  void runGeneration(const GenerationJob& job);

  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::atomic<bool> stop_{false};
};

}  // namespace kvs::ui
