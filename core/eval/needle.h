#pragma once
// Needle in a haystack as a grid of context lengths (prompt tokens) x depths (0..1), for every
// compression setting, run the way LongBench is run (longbench_run.h): each cell's prompt
// (needle_prompt.h) is prefilled once per GQA reduction the settings use, and every setting
// compresses a copy of that prefill, then decodes twice through the one decode path
// (session/decode.h):
//   (a) greedy, up to maxNewTokens, stopping at BOS, EOS or a newline after at least one token;
//       scored by answerContains (0/1);
//   (b) teacher-forced: the expected answer's A tokens forced after the prompt, keeping each
//       step's log-softmax: the answer's mean NLL (nats/token) and its first token's rank among
//       the vocabulary (1 + the tokens with a higher log-prob).
// The first answer token is predicted from the prompt's last position, computed in the prefill
// with every prompt token present: its rank, and the first greedy token, are the same under every
// setting; compression shows from the answer's second token on (as in the paper's setup, where
// the cache is compressed after the prefill).
// Each (cell, needle, setting) is written as a record (eval_records.h) before the next: task
// "needle", id needleCellId() (+ "_n<i>" when the run has several needles), the setting's params.

#include <string>
#include <vector>

#include "compress/compression_params.h"
#include "eval/eval_records.h"
#include "eval/longbench_run.h"
#include "eval/needle_prompt.h"

namespace kvs {
class LlamaModel;
class Tokenizer;
}  // namespace kvs

namespace kvs::eval {

struct NeedleRun {
  std::vector<int> lengths;                 // prompt tokens of each column
  std::vector<double> depths;               // fractions of the haystack, 0..1, of each row
  std::vector<CompressionParams> settings;  // the full cache first, then the variants
  std::vector<Needle> needles;              // one, or several (a needle file's list)
  std::string haystack;                     // the filler text (readHaystack)
  std::string haystackName;                 // as records name it (the file given)
  std::string model;                        // as records name it (the path the user gave)
  int maxNewTokens = 16;                    // of the greedy answer
  bool chat = false;                        // LongBench's [INST]...[/INST] around the prompt
};

// Checks the run against the model and the haystack before any work, and returns each needle's
// parts. KvsError naming the fix for: no lengths or depths, one given twice, a depth outside
// [0, 1], an empty needle, question or answer, a length that leaves no haystack, a length plus
// the answer room (the larger of maxNewTokens and the answer's tokens) beyond the model's
// context, a haystack shorter than the longest length needs (saying how many tokens it has).
std::vector<NeedleParts> checkNeedleRun(const LlamaModel& model, const Tokenizer& tokenizer,
                                        const NeedleRun& run);

// One (setting, depth, length) of the grid, over the run's needles.
struct NeedleCell {
  std::string setting;
  nlohmann::json params;
  int length = 0;
  double depth = 0;
  int samples = 0;           // records found (0: none yet; the means are then 0)
  double containsRate = 0;   // mean of `contains`
  double meanNll = 0;        // mean of the answers' mean NLL, nats/token
  double meanFirstRank = 0;  // mean first-token rank
};

// Runs what `records` does not hold yet (progress counts (cell, needle, setting)s, resumed ones
// included; false stops the run with KvsError "cancelled", keeping what was written), then
// returns the grid: settings in order, each with depths x lengths in the run's orders. Records of
// another needle, haystack, chat wrapping or maxNewTokens in the file are refused.
std::vector<NeedleCell> runNeedle(const LlamaModel& model, const Tokenizer& tokenizer,
                                  const NeedleRun& run, EvalRecords& records,
                                  const EvalProgress& progress);

// The grid of run from records alone (a finished or partial run's).
std::vector<NeedleCell> needleGrid(const NeedleRun& run,
                                   const std::vector<nlohmann::json>& records);

}  // namespace kvs::eval
