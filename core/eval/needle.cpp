#include "eval/needle.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "compress/compression_method.h"
#include "model/llama_model.h"
#include "session/decode.h"
#include "session/request.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

const char* const kTask = "needle";

std::string recordId(const NeedleRun& run, int length, double depth, size_t needle) {
  const std::string cell = needleCellId(length, depth);
  return run.needles.size() > 1 ? cell + "_n" + std::to_string(needle + 1) : cell;
}

std::string numberText(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

int answerRoom(const NeedleRun& run, const NeedleParts& parts) {
  return std::max(run.maxNewTokens, static_cast<int>(parts.answer.size()));
}

// A results file holds one needle protocol: what makes its records comparable with this run's.
void requireSameProtocol(const NeedleRun& run, const std::vector<nlohmann::json>& records,
                         const std::string& path) {
  for (const nlohmann::json& r : records) {
    if (r.value("task", "") != kTask) continue;
    const size_t i = r.value("needle_index", size_t{0});
    const bool same = r.value("haystack", "") == run.haystackName &&
                      r.value("chat", false) == run.chat &&
                      r.value("max_new_tokens", 0) == run.maxNewTokens && i < run.needles.size() &&
                      r.value("needle", "") == run.needles[i].needle &&
                      r.value("question", "") == run.needles[i].question &&
                      r.value("answer", "") == run.needles[i].answer;
    require(same, "the results file " + path +
                      " holds needle records of another needle, haystack, --chat or "
                      "--max-new-tokens (record " +
                      r.value("id", std::string("?")) + "); give another --out for this run");
  }
}

struct Outcome {
  DecodeResult greedy, forced;
  std::vector<double> logProbs;  // [A] of each answer token
  int64_t firstRank = 0;
  double seconds = 0;  // prefill + compression + both decodes
};

// One setting on one cell: a copy of the prefill compressed once, then the greedy and the
// teacher-forced decodes from copies of that.
Outcome runSetting(const LlamaModel& model, const DecodeStart& prefill,
                   const GenerationRequest& greedy, const GenerationRequest& forced,
                   const std::vector<int>& answer, const CompressionParams& p) {
  const auto begin = std::chrono::steady_clock::now();
  DecodeStart start = prefill.clone();
  compressPrompt(start, p);
  DecodeHooks greedyHooks;
  greedyHooks.minNewTokens = 1;  // the newline ends the answer line, not an empty one
  Outcome o;
  o.greedy = decode(model, start.clone(), greedy, p, greedyHooks);
  DecodeHooks forcedHooks;
  forcedHooks.forced = &answer;
  forcedHooks.keepLogProbs = true;
  o.forced = decode(model, std::move(start), forced, p, forcedHooks);
  TORCH_CHECK(o.forced.logProbs.size() == answer.size(), "needle: a forced step is missing");
  for (size_t t = 0; t < answer.size(); ++t) {
    o.logProbs.push_back(o.forced.logProbs[t][answer[t]].item<double>());  // logProbs[t]: [V]
  }
  const at::Tensor& first = o.forced.logProbs[0];  // [V], given the prompt alone
  o.firstRank = 1 + (first > o.logProbs[0]).sum().item<int64_t>();
  // What the setting would cost on its own: the shared prefill counted in full.
  o.seconds = prefill.prefillSeconds +
              std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return o;
}

nlohmann::json recordOf(const NeedleRun& run, const std::string& id, int length, double depth,
                        size_t needle, const NeedlePrompt& prompt, const NeedleParts& parts,
                        const CompressionParams& p, const Outcome& o, const Tokenizer& tokenizer) {
  const std::string greedy = tokenizer.decode(o.greedy.generatedIds);
  double sum = 0;
  for (double lp : o.logProbs) sum -= lp;
  const Needle& n = run.needles[needle];
  return {{"task", kTask},
          {"id", id},
          {"setting", variantName(p)},
          {"params", toJson(p)},
          {"model", run.model},
          {"length", length},
          {"depth", depth},
          {"needle_index", needle},
          {"needle", n.needle},
          {"question", n.question},
          {"answer", n.answer},
          {"haystack", run.haystackName},
          {"chat", run.chat},
          {"max_new_tokens", run.maxNewTokens},
          {"prompt_tokens", prompt.ids.size()},
          {"haystack_tokens", prompt.haystackTokens},
          {"needle_pos", prompt.needlePos},
          {"needle_tokens", parts.needle.size()},
          {"depth_pos", prompt.depthPos},
          {"greedy", greedy},
          {"generated_tokens", o.greedy.generatedIds.size()},
          {"stop", toString(o.greedy.stopReason)},
          {"contains", answerContains(greedy, n.answer) ? 1 : 0},
          {"answer_tokens", parts.answer.size()},
          {"answer_logprobs", o.logProbs},
          {"answer_nll", sum / static_cast<double>(o.logProbs.size())},
          {"first_token_rank", o.firstRank},
          {"kv_bytes", o.greedy.compression.bytes},
          {"kv_bytes_full", o.greedy.compression.fullBytes},
          {"achieved_ratio", o.greedy.compression.achievedRatio},
          {"prefill_s", o.greedy.prefillSeconds},
          {"compress_s", o.greedy.compression.compressSeconds},
          {"decode_s", o.greedy.decodeSeconds},
          {"forced_s", o.forced.decodeSeconds},
          {"seconds", o.seconds}};
}

}  // namespace

std::vector<NeedleParts> checkNeedleRun(const LlamaModel& model, const Tokenizer& tokenizer,
                                        const NeedleRun& run) {
  require(!run.settings.empty(), "no settings to evaluate");
  require(!run.lengths.empty(), "no --lengths; give context lengths in tokens, e.g. 64,128,256");
  require(!run.depths.empty(), "no --depths; give fractions such as 0,0.25,0.5,0.75,1");
  require(!run.needles.empty(), "no needle; give --needle, --question and --answer");
  require(run.maxNewTokens >= 1, "--max-new-tokens must be at least 1");
  for (size_t i = 0; i < run.depths.size(); ++i) {
    const double d = run.depths[i];
    require(std::isfinite(d) && d >= 0 && d <= 1,
            "--depths " + numberText(d) +
                " is outside [0, 1] (0: right after BOS, 1: right before the question); give "
                "fractions such as 0,0.25,0.5,0.75,1");
    require(std::count(run.depths.begin(), run.depths.begin() + i, d) == 0,
            "--depths " + numberText(d) + " is given twice; give each depth once");
  }
  for (size_t i = 0; i < run.lengths.size(); ++i) {
    require(
        std::count(run.lengths.begin(), run.lengths.begin() + i, run.lengths[i]) == 0,
        "--lengths " + std::to_string(run.lengths[i]) + " is given twice; give each length once");
  }
  const int context = model.config().seqLen;
  const int longest = *std::max_element(run.lengths.begin(), run.lengths.end());
  std::vector<NeedleParts> parts;
  for (size_t i = 0; i < run.needles.size(); ++i) {
    const Needle& n = run.needles[i];
    requireNeedle(n, run.needles.size() > 1 ? "needle " + std::to_string(i + 1) : "the needle");
    NeedleParts np = tokenizeNeedle(tokenizer, run.haystack, n, run.chat);
    const int fixed = np.fixedTokens(), room = answerRoom(run, np);
    for (int L : run.lengths) {
      const std::string fixedText = std::to_string(fixed);
      require(L > fixed, "--lengths " + std::to_string(L) +
                             " leaves no room for a haystack: BOS, the needle and the question "
                             "take " +
                             fixedText + " tokens; give lengths above " + fixedText);
      require(L + room <= context,
              "--lengths " + std::to_string(L) + " and the answer's room of " +
                  std::to_string(room) +
                  " tokens (the larger of --max-new-tokens and the answer's " +
                  std::to_string(np.answer.size()) + ") do not fit the model's context of " +
                  std::to_string(context) + "; give lengths up to " +
                  std::to_string(context - room) + ", or a smaller --max-new-tokens");
    }
    const int have = static_cast<int>(np.haystack.size());
    require(longest - fixed <= have,
            "the haystack " + run.haystackName + " has " + std::to_string(have) +
                " tokens; --lengths " + std::to_string(longest) + " needs " +
                std::to_string(longest - fixed) + " (the other " + std::to_string(fixed) +
                " are BOS, the needle and the question); give a longer --haystack, or lengths "
                "up to " +
                std::to_string(have + fixed));
    parts.push_back(std::move(np));
  }
  return parts;
}

std::vector<NeedleCell> runNeedle(const LlamaModel& model, const Tokenizer& tokenizer,
                                  const NeedleRun& run, EvalRecords& records,
                                  const EvalProgress& progress) {
  const std::vector<NeedleParts> parts = checkNeedleRun(model, tokenizer, run);
  requireSameProtocol(run, records.records(), records.path());
  const int total = static_cast<int>(run.lengths.size() * run.depths.size() * run.needles.size() *
                                     run.settings.size());
  const int newline = tokenizer.encode("\n", false).back();
  int done = 0;
  for (int L : run.lengths) {
    for (double depth : run.depths) {
      for (size_t ni = 0; ni < run.needles.size(); ++ni) {
        const std::string id = recordId(run, L, depth, ni);
        std::vector<const CompressionParams*> todo;
        for (const CompressionParams& p : run.settings) {
          if (records.has(EvalRecords::keyOf(kTask, id, toJson(p)))) {
            ++done;
          } else {
            todo.push_back(&p);
          }
        }
        if (todo.empty()) continue;
        const NeedleParts& np = parts[ni];
        const NeedlePrompt prompt = buildNeedlePrompt(tokenizer, np, L, depth);
        // steps counts positions as llama2.c does: the token at position steps is the last.
        GenerationRequest greedy;
        greedy.promptIds = prompt.ids;
        greedy.steps = L + run.maxNewTokens - 1;
        greedy.sampling.temperature = 0.0f;
        greedy.stopIds = {tokenizer.bosId(), tokenizer.eosId(), newline};
        validateRequest(model, greedy);
        GenerationRequest forced = greedy;
        forced.steps = L + static_cast<int>(np.answer.size()) - 1;
        forced.stopIds.clear();  // every answer token is forced, whatever it is
        // One prefill per GQA reduction the settings use; each setting decodes from a copy.
        const auto starts = prefillStarts(model, prompt.ids, todo);
        for (const CompressionParams* p : todo) {
          const Outcome o =
              runSetting(model, starts.at(p->gqaReduction), greedy, forced, np.answer, *p);
          records.append(recordOf(run, id, L, depth, ni, prompt, np, *p, o, tokenizer));
          if (progress && !progress(++done, total)) throw KvsError("cancelled");
        }
      }
    }
  }
  return needleGrid(run, records.records());
}

std::vector<NeedleCell> needleGrid(const NeedleRun& run,
                                   const std::vector<nlohmann::json>& records) {
  std::map<std::string, const nlohmann::json*> byKey;
  for (const nlohmann::json& r : records) {
    if (r.value("task", "") != kTask) continue;
    byKey[EvalRecords::keyOf(kTask, r.at("id").get<std::string>(), r.at("params"))] = &r;
  }
  std::vector<NeedleCell> out;
  for (const CompressionParams& p : run.settings) {
    const nlohmann::json params = toJson(p);
    for (double depth : run.depths) {
      for (int L : run.lengths) {
        NeedleCell c{variantName(p), params, L, depth};
        for (size_t ni = 0; ni < run.needles.size(); ++ni) {
          const auto found =
              byKey.find(EvalRecords::keyOf(kTask, recordId(run, L, depth, ni), params));
          if (found == byKey.end()) continue;
          const nlohmann::json& r = *found->second;
          ++c.samples;
          c.containsRate += r.at("contains").get<double>();
          c.meanNll += r.at("answer_nll").get<double>();
          c.meanFirstRank += r.at("first_token_rank").get<double>();
        }
        if (c.samples > 0) {
          c.containsRate /= c.samples;
          c.meanNll /= c.samples;
          c.meanFirstRank /= c.samples;
        }
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

}  // namespace kvs::eval
