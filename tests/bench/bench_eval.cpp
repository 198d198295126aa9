// kvs_bench_eval: eval longbench's throughput on stories260K, per method, and its overhead above
// plain generation of the same requests. Small LongBench-format files (passage retrieval and qa
// over the TinyStories prompts, tests/model/longbench_fixture.h) are written to a temporary
// folder; each round runs, one after another:
//   eval    runLongBench over every sample and setting (prompt building, one prefill per sample
//           shared by the settings, scoring, one record per sample and setting written);
//   plain   the same requests and nothing else: one prefill per sample with a copy decoded per
//           setting (the generation eval does; its overhead is measured against this), and
//           prefill + decode per setting (what generating each setting on its own costs).
// Rounds alternate; medians are printed. Usage: kvs_bench_eval [samples per task] [rounds]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "eval/longbench_prompt.h"
#include "eval/longbench_run.h"
#include "model/llama_model.h"
#include "model/longbench_fixture.h"
#include "model/model_loader.h"
#include "session/decode.h"
#include "session/request.h"
#include "tokenizer/tokenizer.h"
#include "util/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

kvs::CompressionParams setting(const std::string& method) {
  kvs::CompressionParams p;
  p.method = method;
  p.budget = 0.5;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const int samples = argc > 1 ? std::max(1, atoi(argv[1])) : 8;
  const int rounds = argc > 2 ? std::max(1, atoi(argv[2])) : 3;
  kvs::setComputeThreads(1);
  const auto model = kvs::loadModel(std::string(KVS_MODELS_DIR) + "/stories260K.bin");
  const kvs::Tokenizer tokenizer =
      kvs::Tokenizer::load(std::string(KVS_MODELS_DIR) + "/tok512.model");
  const kvs::eval::LongBenchTasks tasks =
      kvs::eval::LongBenchTasks::load(kvs::eval::findLongBenchDataDir());
  kvs::test::TempDir dir;
  kvs::test::writeLongBenchData(dir.path(), samples);
  const std::vector<std::string> methods = {"full", "streaming", "h2o",
                                            "cam",  "kvmerger",  "snapkv"};

  kvs::eval::LongBenchRun run;
  run.dataDir = dir.path();
  run.tasks = {"passage_retrieval_en", "qasper"};
  run.model = "stories260K.bin";
  run.limit = samples;
  for (const auto& m : methods) run.settings.push_back(setting(m));

  std::map<std::string, std::vector<double>> perMethod;  // seconds per sample, one setting
  std::vector<double> evalSeconds, sharedSeconds, plainSeconds;
  for (int r = 0; r < rounds; ++r) {
    {  // eval, every setting
      std::remove(dir.file("all.jsonl").c_str());
      auto records = kvs::eval::EvalRecords::open(dir.file("all.jsonl"), run.model, nullptr);
      const auto start = Clock::now();
      kvs::eval::runLongBench(*model, tokenizer, tasks, run, records, {});
      evalSeconds.push_back(since(start));
    }
    for (const bool shared : {true, false}) {  // plain: the same requests, nothing else
      const auto start = Clock::now();
      for (const std::string& task : run.tasks) {
        const kvs::eval::LongBenchTask& t = tasks.find(task);
        const auto data = kvs::eval::readLongBenchSamples(dir.file(task + ".jsonl"));
        const int limit = kvs::eval::promptLimit(run, t, model->config().seqLen,
                                                 kvs::eval::promptReserve(tokenizer, true));
        for (const auto& sample : data) {
          const auto prompt = kvs::eval::buildLongBenchPrompt(tokenizer, t, sample, limit, true);
          kvs::GenerationRequest request;
          request.promptIds = prompt.ids;
          request.steps = static_cast<int>(prompt.ids.size()) + t.maxNewTokens - 1;
          request.sampling.temperature = 0;
          request.stopIds = {tokenizer.bosId(), tokenizer.eosId()};
          if (shared) {  // one prefill, a copy per setting (every setting here is GQA mean)
            const kvs::DecodeStart start =
                kvs::prefillStart(*model, request.promptIds, kvs::GqaReduction::kMean, true);
            for (const auto& p : run.settings) kvs::decode(*model, start.clone(), request, p);
            continue;
          }
          for (const auto& p : run.settings) {
            kvs::decode(
                *model,
                kvs::prefillStart(*model, request.promptIds, p.gqaReduction, kvs::compresses(p)),
                request, p);
          }
        }
      }
      (shared ? sharedSeconds : plainSeconds).push_back(since(start));
    }
    for (const auto& m : methods) {  // samples per second of one method alone
      kvs::eval::LongBenchRun one = run;
      one.settings = {setting(m)};
      std::remove(dir.file("one.jsonl").c_str());
      auto records = kvs::eval::EvalRecords::open(dir.file("one.jsonl"), one.model, nullptr);
      const auto start = Clock::now();
      kvs::eval::runLongBench(*model, tokenizer, tasks, one, records, {});
      perMethod[m].push_back(since(start) / (2.0 * samples));
    }
  }
  std::printf("# eval longbench on stories260K (%d samples x 2 tasks, 1 thread, %d rounds)\n\n",
              samples, rounds);
  std::printf("| method (50%%) | samples/s |\n|---|---:|\n");
  for (const auto& m : methods) std::printf("| %s | %.1f |\n", m.c_str(), 1 / median(perMethod[m]));
  const double e = median(evalSeconds), sh = median(sharedSeconds), p = median(plainSeconds);
  std::printf("\n| all %zu settings | median s |\n|---|---:|\n", run.settings.size());
  std::printf("| eval longbench | %.3f |\n", e);
  std::printf("| plain: one prefill per sample, decode per setting | %.3f |\n", sh);
  std::printf("| plain: prefill and decode per setting | %.3f |\n", p);
  std::printf("\neval's overhead above the same generation: %+.1f%% (target <= 5%%)\n",
              100 * (e / sh - 1));
  return 0;
}
