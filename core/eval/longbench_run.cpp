#include "eval/longbench_run.h"

#include <map>

#include "compress/compression_method.h"
#include "eval/longbench_prompt.h"
#include "eval/longbench_samples.h"
#include "eval/longbench_scorer.h"
#include "model/llama_model.h"
#include "session/decode.h"
#include "session/request.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

struct Sample {
  const LongBenchTask* task;
  LongBenchSample data;
};

// The request LongBench's generate() makes: greedy, the task's generation length, stopping at
// the end of text (BOS as well: llama2.c models end a text with it) and for samsum at a newline.
GenerationRequest requestFor(const LlamaModel& model, const Tokenizer& tokenizer,
                             const LongBenchTask& task, const LongBenchPrompt& prompt) {
  PromptSpec spec;
  spec.ids = prompt.ids;
  // steps counts positions as llama2.c does: the token at position steps is the last one chosen.
  spec.steps = static_cast<int>(prompt.ids.size()) + task.maxNewTokens - 1;
  spec.name = "the " + task.name + " prompt";
  spec.sampling.temperature = 0.0f;  // greedy: pred.py's do_sample=False, num_beams=1
  GenerationRequest request = makeRequest(model, tokenizer, spec);
  if (task.name == "samsum") request.stopIds.push_back(tokenizer.encode("\n", false).back());
  return request;
}

nlohmann::json recordOf(const Sample& s, const LongBenchPrompt& prompt,
                        const CompressionParams& params, const DecodeResult& r,
                        const std::string& prediction, double score, const std::string& model) {
  return {{"task", s.task->name},
          {"id", s.data.id},
          {"setting", variantName(params)},
          {"params", toJson(params)},
          {"model", model},
          {"prompt_tokens", prompt.tokensBefore},
          {"prompt_tokens_used", prompt.ids.size()},
          {"truncated", prompt.truncated},
          {"chat", prompt.chat},
          {"pred", prediction},
          {"answers", s.data.answers},
          {"all_classes", s.data.allClasses},
          {"length", s.data.length},
          {"score", score},
          {"kv_bytes", r.compression.bytes},
          {"kv_bytes_full", r.compression.fullBytes},
          {"achieved_ratio", r.compression.achievedRatio},
          {"prefill_s", r.prefillSeconds},
          {"compress_s", r.compression.compressSeconds},
          {"decode_s", r.decodeSeconds},
          {"generated_tokens", r.generatedIds.size()},
          {"stop", toString(r.stopReason)}};
}

}  // namespace

int promptReserve(const Tokenizer& tokenizer, bool chat) {
  return 8 + (chat ? static_cast<int>(tokenizer.encode("[INST][/INST]", false).size()) : 0);
}

int promptLimit(const LongBenchRun& run, const LongBenchTask& task, int context, int reserve) {
  const int room = context - task.maxNewTokens - reserve;
  require(room >= 16, task.name + " generates up to " + std::to_string(task.maxNewTokens) +
                          " tokens, which leaves no room for a prompt in the model's context of " +
                          std::to_string(context) + "; leave " + task.name +
                          " out, or use a model with a longer context");
  if (run.maxLength == 0) return room;
  require(run.maxLength <= room,
          "--max-length " + std::to_string(run.maxLength) + " leaves no room for " + task.name +
              "'s " + std::to_string(task.maxNewTokens) +
              " generated tokens in the model's context of " + std::to_string(context) +
              "; give at most " + std::to_string(room));
  return run.maxLength;
}

std::vector<TaskSettingScore> runLongBench(const LlamaModel& model, const Tokenizer& tokenizer,
                                           const LongBenchTasks& tasks, const LongBenchRun& run,
                                           EvalRecords& records, const EvalProgress& progress) {
  require(!run.settings.empty(), "no settings to evaluate");
  // Every task's data and limit is checked before any work.
  std::vector<Sample> samples;
  std::map<std::string, int> limits;
  for (const std::string& name : run.tasks) {
    const LongBenchTask& task = tasks.scorable(name);
    limits[name] =
        promptLimit(run, task, model.config().seqLen, promptReserve(tokenizer, run.chat));
    auto data = readLongBenchSamples(longBenchDataFile(run.dataDir, name, run.longbenchE));
    if (run.limit > 0 && static_cast<int>(data.size()) > run.limit) data.resize(run.limit);
    for (auto& d : data) samples.push_back({&task, std::move(d)});
  }
  const int total = static_cast<int>(samples.size() * run.settings.size());
  int done = 0;
  for (const Sample& s : samples) {
    std::vector<const CompressionParams*> todo;
    for (const CompressionParams& p : run.settings) {
      if (records.has(EvalRecords::keyOf(s.task->name, s.data.id, toJson(p)))) {
        ++done;
      } else {
        todo.push_back(&p);
      }
    }
    if (todo.empty()) continue;
    const LongBenchPrompt prompt =
        buildLongBenchPrompt(tokenizer, *s.task, s.data, limits[s.task->name], run.chat);
    const GenerationRequest request = requestFor(model, tokenizer, *s.task, prompt);
    DecodeHooks hooks;
    hooks.minNewTokens = s.task->name == "samsum" ? 1 : 0;  // pred.py's min_length
    const auto starts = prefillStarts(model, request.promptIds, todo);
    for (const CompressionParams* p : todo) {
      const DecodeResult r = decode(model, starts.at(p->gqaReduction).clone(), request, *p, hooks);
      const std::string prediction = tokenizer.decode(r.generatedIds);
      const double score = sampleScore(s.task->metric, s.task->firstLineOnly, prediction,
                                       s.data.answers, s.data.allClasses);
      nlohmann::json record = recordOf(s, prompt, *p, r, prediction, score, run.model);
      // The prompt as the model read it (cut, wrapped), once per sample: on the first setting's
      // record (the full cache's), so the app can show it and run it without the data folder.
      if (p == &run.settings.front()) record["prompt"] = tokenizer.decode(prompt.ids);
      records.append(record);
      if (progress && !progress(++done, total)) throw KvsError("cancelled");
    }
  }
  return scoreRecords(records.records());
}

std::vector<TaskSettingScore> scoreRecords(const std::vector<nlohmann::json>& records) {
  std::map<std::pair<std::string, std::string>, std::vector<double>> scores;
  std::map<std::pair<std::string, std::string>, TaskSettingScore> table;
  std::vector<std::pair<std::string, std::string>> order;
  for (const nlohmann::json& r : records) {
    const auto key = std::make_pair(r.at("task").get<std::string>(), r.at("params").dump());
    if (!table.count(key)) {
      order.push_back(key);
      table[key] = {key.first, r.value("setting", ""), r.at("params"), 0, 0};
    }
    scores[key].push_back(r.at("score").get<double>());
  }
  std::vector<TaskSettingScore> out;
  for (const auto& key : order) {
    TaskSettingScore t = table[key];
    t.samples = static_cast<int>(scores[key].size());
    t.score = taskScore(scores[key]);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace kvs::eval
