#pragma once
// LongBench's prompt for one sample, built as its pred.py builds it for Llama-2-chat models:
//   1. the task's template with {context} and {input} filled in (Python's str.format);
//   2. tokenized with BOS; when longer than maxLength tokens, the first maxLength/2 and the last
//      maxLength/2 tokens are each decoded (special tokens dropped) and the two texts joined:
//      "truncate in the middle, since the left and right side may contain crucial instructions";
//   3. wrapped as "[INST]{prompt}[/INST]" (LongBench's build_chat, not Meta's chat format) unless
//      the task is one of trec, triviaqa, samsum, lsht, lcc, repobench-p, or chat is off;
//   4. tokenized again with BOS: the ids generation starts from.

#include <string>
#include <vector>

#include "eval/longbench_samples.h"
#include "eval/longbench_tasks.h"

namespace kvs {
class Tokenizer;
}

namespace kvs::eval {

// Python's template.format(context=..., input=...): "{{" and "}}" are literal braces; any other
// field is a KvsError naming it (LongBench's templates use only these two).
std::string fillTemplate(const std::string& templateText, const std::string& context,
                         const std::string& input);

// Whether LongBench wraps the task's prompt in [INST]...[/INST] for a chat model.
bool wrappedForChat(const std::string& task);

struct LongBenchPrompt {
  std::vector<int> ids;  // what generation starts from, BOS included
  int tokensBefore = 0;  // of step 2's tokenization, before truncation
  bool truncated = false;
  bool chat = false;  // wrapped in [INST]...[/INST]
};

LongBenchPrompt buildLongBenchPrompt(const Tokenizer& tokenizer, const LongBenchTask& task,
                                     const LongBenchSample& sample, int maxLength, bool chat);

}  // namespace kvs::eval
