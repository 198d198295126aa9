#pragma once
// The value types of the layer-ratio view (the paper's second observation): a request to the
// SessionWorker and the per-layer ratios it sends back. Kept out of session_types.h: only the
// layer-ratio panel and the worker's batch slot use them.

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <atomic>
#include <memory>
#include <vector>

namespace kvs::ui {

struct LayerRatioRequest {
  QString promptsFile;  // empty: the kept prompt's ratios only (cheap, no forward pass)
  double eps = 0.75, recent = 0.17, protectedRatio = 0.12;  // kvs::MergeThresholds
  // Set from the GUI thread to stop a batch at its next layer; the worker's Stop also stops it.
  // Shared, not a worker member: the panel's Stop must not end the session's other work.
  std::shared_ptr<std::atomic<bool>> cancel;
  quint64 ticket = 0;
};

struct LayerRatioResult {
  enum class State { kRunning, kDone, kStopped, kFailed };
  bool batch = false;  // false: the kept prompt (one row)
  State state = State::kDone;
  QString promptsFile;
  double eps = 0.75, recent = 0.17, protectedRatio = 0.12;
  QStringList prompts;                      // the prompts done, in file order
  std::vector<int> tokens;                  // per prompt done, BOS included
  std::vector<std::vector<double>> ratios;  // [prompt done][layer], 1 - slots / T
  int done = 0, total = 0;                  // prompts
  double seconds = 0;                       // since the batch started
  QString error;                            // kFailed: why
  quint64 ticket = 0;
};

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::ui::LayerRatioRequest)
Q_DECLARE_METATYPE(kvs::ui::LayerRatioResult)
