#pragma once
// LongBench as its authors run it (pred.py, then eval.py), for every compression setting: each
// sample's prompt is built as LongBench builds it (longbench_prompt.h), prefilled once per GQA
// reduction, and every setting decodes greedily from a copy of that prefill through the one
// decode path (session/decode.h), up to the task's generation length, stopping at BOS or EOS
// (samsum also at a newline, after at least one token). The prediction is scored with the
// task's metric (longbench_scorer.h) and written as a record (eval_records.h) before the next.
//
// Shapes: P prompt tokens (at most the length limit + LongBench's chat tags).

#include <functional>
#include <string>
#include <vector>

#include "compress/compression_params.h"
#include "eval/eval_records.h"
#include "eval/longbench_tasks.h"

namespace kvs {
class LlamaModel;
class Tokenizer;
}  // namespace kvs

namespace kvs::eval {

struct LongBenchRun {
  std::string dataDir;                      // LongBench's <task>.jsonl files
  std::vector<std::string> tasks;           // scorable task names
  std::vector<CompressionParams> settings;  // the full cache first, then the variants
  std::string model;                        // as records name it (the path the user gave)
  // Prompt tokens kept (LongBench's max_length: 3500 for Llama-2-7B-chat-4k); 0: the model's
  // context less the task's generation length and promptReserve().
  int maxLength = 0;
  int limit = 0;            // samples per task, the file's first ones; 0: all
  bool longbenchE = false;  // <task>_e.jsonl
  bool chat = true;         // LongBench's [INST]...[/INST] wrapping where it applies
};

// Tokens a cut prompt may grow by when it is wrapped and tokenized again: the chat tags in this
// vocabulary (4 in Llama 2's, more in a small one) and 8 for pieces re-split where the two
// halves join.
int promptReserve(const Tokenizer& tokenizer, bool chat);

// The prompt length limit for a task under run (maxLength, or the default above); KvsError when
// the task's generation does not fit the model's context with room for a prompt.
int promptLimit(const LongBenchRun& run, const LongBenchTask& task, int context, int reserve);

struct TaskSettingScore {
  std::string task, setting;
  nlohmann::json params;
  int samples = 0;
  double score = 0;  // eval.py's: 100 x the mean of the samples' scores, two decimals
};

// After each finished (sample, setting), with the count done of the total (resumed ones
// included); returning false stops the run (KvsError "cancelled"), keeping what was written.
using EvalProgress = std::function<bool(int done, int total)>;

// Runs what `records` does not hold yet, then scores every (task, setting) from the records.
std::vector<TaskSettingScore> runLongBench(const LlamaModel& model, const Tokenizer& tokenizer,
                                           const LongBenchTasks& tasks, const LongBenchRun& run,
                                           EvalRecords& records, const EvalProgress& progress);

// The table from records alone (a finished or partial run's file).
std::vector<TaskSettingScore> scoreRecords(const std::vector<nlohmann::json>& records);

}  // namespace kvs::eval
