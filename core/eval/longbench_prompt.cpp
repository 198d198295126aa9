#include "eval/longbench_prompt.h"

#include <algorithm>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::eval {

std::string fillTemplate(const std::string& templateText, const std::string& context,
                         const std::string& input) {
  std::string out;
  out.reserve(templateText.size() + context.size() + input.size());
  for (size_t i = 0; i < templateText.size(); ++i) {
    const char c = templateText[i];
    const bool doubled = i + 1 < templateText.size() && templateText[i + 1] == c;
    if ((c == '{' || c == '}') && doubled) {
      out += c;
      ++i;
      continue;
    }
    require(c != '}', "a single '}' in a LongBench prompt template; the task table is damaged");
    if (c != '{') {
      out += c;
      continue;
    }
    const size_t end = templateText.find('}', i);
    require(end != std::string::npos,
            "an unclosed '{' in a LongBench prompt template; the task table is damaged");
    const std::string field = templateText.substr(i + 1, end - i - 1);
    if (field == "context") {
      out += context;
    } else if (field == "input") {
      out += input;
    } else {
      throw KvsError("a LongBench prompt template asks for the field {" + field +
                     "}, which samples do not have (only {context} and {input})");
    }
    i = end;
  }
  return out;
}

bool wrappedForChat(const std::string& task) {
  static const char* const kPlain[] = {"trec", "triviaqa", "samsum", "lsht", "lcc", "repobench-p"};
  return std::none_of(std::begin(kPlain), std::end(kPlain),
                      [&](const char* t) { return task == t; });
}

LongBenchPrompt buildLongBenchPrompt(const Tokenizer& tokenizer, const LongBenchTask& task,
                                     const LongBenchSample& sample, int maxLength, bool chat) {
  require(maxLength >= 2, "the prompt length limit must be at least 2 tokens");
  LongBenchPrompt out;
  std::string prompt = fillTemplate(task.promptTemplate, sample.context, sample.input);
  const std::vector<int> full = tokenizer.encode(prompt, /*addBos=*/true);
  out.tokensBefore = static_cast<int>(full.size());
  if (out.tokensBefore > maxLength) {
    // int(max_length / 2) from each end; an odd limit keeps one token less, as pred.py does.
    const int half = maxLength / 2;
    const std::vector<int> head(full.begin(), full.begin() + half);
    const std::vector<int> tail(full.end() - half, full.end());
    prompt = tokenizer.decode(head) + tokenizer.decode(tail);
    out.truncated = true;
  }
  out.chat = chat && wrappedForChat(task.name);
  if (out.chat) prompt = "[INST]" + prompt + "[/INST]";
  out.ids = tokenizer.encode(prompt, /*addBos=*/true);
  return out;
}

}  // namespace kvs::eval
