#pragma once
// The value types of the Evaluation panel's runs: a request to the SessionWorker (a needle grid or
// LongBench tasks on the loaded model) and the status it sends back as the run goes. Records cross
// as JSON values (copies), never as a pointer into the worker's EvalRecords.

#include <nlohmann/json.hpp>

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace kvs::ui {

struct EvalRunRequest {
  enum class Kind { kNeedle, kLongBench };
  Kind kind = Kind::kNeedle;
  QString model;    // as the records name it: the model's path as the window loaded it
  QString outPath;  // the records file (JSON lines); an existing one of the same model resumes
  std::vector<std::string> methods;  // the full cache is always evaluated first, as in the CLI
  std::vector<double> budgets;
  // Needle: the grid; haystack empty means the CLI's default (data/prompts).
  std::vector<int> lengths;
  std::vector<double> depths;
  QString haystack;
  // LongBench: the folder of <task>.jsonl files, the tasks, samples per task (0: all).
  QString dataDir;
  std::vector<std::string> tasks;
  int limit = 0;
  // Set from the GUI thread to end the run after the record being written; the worker's Stop
  // also ends it. Shared, so that a cancelled run never stops its successor.
  std::shared_ptr<std::atomic<bool>> cancel;
  quint64 ticket = 0;
};

struct EvalRunStatus {
  enum class State { kRunning, kDone, kStopped, kFailed };
  State state = State::kRunning;
  QString kind;  // "needle" or "longbench"
  QString outPath;
  int done = 0, total = 0;  // (sample or cell, setting) pairs, resumed ones included
  int resumed = 0;          // records the file held before this run
  double seconds = 0;
  QStringList notes;  // EvalRecords' notes (a line cut short by a kill, redone)
  QString error;      // kFailed: why
  // The file's records new since the run's previous status, which are records [recordsFrom,
  // recordsFrom + records.size()) of the file (the first status: all of them, resumed ones
  // included); sent at the end and at most every 250 ms while running, so the views fill in as
  // the run goes. Only the new ones: a long run's file would otherwise cross again every time.
  int recordsFrom = 0;
  std::vector<nlohmann::json> records;
  int recordCount = 0;  // records in the file now
  quint64 ticket = 0;
};

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::ui::EvalRunRequest)
Q_DECLARE_METATYPE(kvs::ui::EvalRunStatus)
