#pragma once
// The value types of the Sweep view's runs: a request to the SessionWorker (a swept parameter,
// the methods and the setting they start from) and the status it sends back as the run goes.
// The curves are core's SweepCurves (session/sweep_curves.h), the summary the CLI writes.

#include "compress/compression_params.h"
#include "session/sweep_curves.h"

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace kvs::ui {

struct SweepRequest {
  std::string sweep;                 // as compare --sweep takes it: "budget=0.1:0.9:9"
  std::vector<std::string> methods;  // the full cache is always measured first, as the reference
  kvs::CompressionParams base;       // the other parameters (the Parameters panel's setting)
  // Empty: the kept prompt, from its prefill. Else every prompt of this file (one per line, #
  // comments), each prefilled once and decoded newTokens greedy tokens, as compare does.
  QString promptsFile;
  int newTokens = 64;
  // Set from the GUI thread to end the run after the variant being decoded; the worker's Stop
  // ends it too. Shared, so a cancelled run never stops its successor.
  std::shared_ptr<std::atomic<bool>> cancel;
  quint64 ticket = 0;
};

// One variant as a click on its point shows it.
struct SweepVariantDetail {
  kvs::CompressionParams params;
  QString text;  // greedy continuation, to end of text
  qint64 kvBytes = 0, kvBytesFull = 0;
  double achievedRatio = 1;
  // Its merging sets (the cache's slots holding more than one token, after the decode), over
  // every layer and KV head: how many, the tokens they hold, the largest.
  int mergedSets = 0, mergedTokens = 0, largestSet = 1;
};

// Each prompt's variants as a click shows them: the full cache, then curves.points' order.
using SweepPromptDetails = std::vector<SweepVariantDetail>;

struct SweepStatus {
  enum class State { kRunning, kDone, kStopped, kFailed };
  State state = State::kRunning;
  int done = 0, total = 0;  // variants decoded over all prompts (the full cache not counted)
  int prompt = 0, promptCount = 1;  // the prompt being measured (from 0) of how many
  double seconds = 0;
  QString error;                            // kFailed: why
  kvs::SweepCurves curves;                  // kDone: the summary (one prompt: std 0)
  std::vector<SweepPromptDetails> details;  // kDone: [prompt]
  QStringList prompts;                      // kDone: the prompts' texts (a file's)
  quint64 ticket = 0;
};

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::ui::SweepRequest)
Q_DECLARE_METATYPE(kvs::ui::SweepStatus)
