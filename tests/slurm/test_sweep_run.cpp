// Sweeps on stories260K without a cluster: shards run by hand merge to the same result as one
// process, a rerun computes nothing, merge refuses missing cells unless --partial, and the merged
// files open with the Evaluation panel's reader (readEvalResults).

#include <gtest/gtest.h>

#include <filesystem>

#include "eval/eval_h5.h"
#include "model/cli_runner.h"
#include "sweep/slurm_submit.h"
#include "test_util.h"

namespace kvs::test {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string digestOf(const std::string& mergeOutput) {
  const std::string tag = "results digest (timings left out): ";
  const size_t at = mergeOutput.find(tag);
  return at == std::string::npos ? "" : mergeOutput.substr(at + tag.size(), 64);
}

TEST(SweepRun, ShardsMergeToTheSingleRunAndOpenInTheEvaluationPanel) {
  TempDir d;
  const json plan = {
      {"name", "model-test"},
      {"models", {std::string(KVS_MODELS_DIR) + "/stories260K.bin"}},
      {"tasks",
       {{{"kind", "compare"},
         {"prompts", std::string(KVS_SOURCE_DIR) + "/data/prompts/tinystories_prompts.txt"},
         {"limit", 2},
         {"new_tokens", 8}},
        {{"kind", "needle"}, {"lengths", {64}}, {"depths", {0, 1}}},
        {{"kind", "perplexity"},
         {"text", std::string(KVS_SOURCE_DIR) + "/data/prompts/tinystories_prompts.txt"},
         {"max_tokens", 96},
         {"cache_sizes", {32}}}}},
      {"settings", {{{"method", "full"}}, {{"method", "h2o"}, {"sweep", {"budget=0.3,0.6"}}}}}};
  writeFile(d.file("plan.json"), plan.dump());
  const std::string p = sweep::shellQuote(d.file("plan.json"));
  const std::string one = sweep::shellQuote(d.file("one")), two = sweep::shellQuote(d.file("two"));
  const CliRun whole = runCliCommand("--threads 1 sweep run " + p + " --out " + one);
  ASSERT_EQ(whole.exitCode, 0) << whole.err;
  // compare 2 prompts x 3 settings + needle 1 length x 3 + perplexity 1 (h2o at cache size 32:
  // the budget fraction does not apply, so both h2o settings are one cell; full is its reference)
  EXPECT_NE(whole.out.find("computed 10, skipped 0 finished, of 10 cells"), std::string::npos)
      << whole.out;
  for (const char* shard : {"0/2", "1/2"}) {
    const CliRun r =
        runCliCommand("--threads 1 sweep run " + p + " --out " + two + " --shard " + shard);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  const CliRun again = runCliCommand("--threads 1 sweep run " + p + " --out " + one);
  EXPECT_NE(again.out.find("computed 0, skipped 10 finished"), std::string::npos) << again.out;
  const CliRun a = runCliCommand("sweep merge " + one), b = runCliCommand("sweep merge " + two);
  ASSERT_EQ(a.exitCode, 0) << a.err;
  ASSERT_EQ(b.exitCode, 0) << b.err;
  EXPECT_EQ(digestOf(a.out).size(), 64u);
  EXPECT_EQ(digestOf(a.out), digestOf(b.out));

  const std::string merged = d.file("one") + "/merged/stories260K/";
  const eval::EvalResults needle = eval::readEvalResults(merged + "needle.jsonl");
  EXPECT_EQ(needle.kind, "needle");
  EXPECT_EQ(needle.records.size(), 3u * 2);  // 3 settings x 2 depths
  EXPECT_EQ(eval::readEvalResults(merged + "perplexity.json").kind, "perplexity");
  EXPECT_EQ(eval::evalKindsInH5(merged + "results.h5"),
            (std::vector<std::string>{"needle", "perplexity"}));
  EXPECT_EQ(eval::readEvalResults(merged + "results.h5", "needle").records.size(), 6u);
  const json results = json::parse(readFile(d.file("one") + "/merged/results.json"));
  EXPECT_EQ(results.at("cells").size(), 10u);
  EXPECT_EQ(results.at("tables").at("compare").size(), 3u);
  EXPECT_EQ(results.at("plan"), plan);

  // A missing cell: refused, unless --partial (then listed).
  for (const auto& f : fs::directory_iterator(d.file("two") + "/cells")) {
    fs::remove(f.path());
    break;
  }
  const CliRun refused = runCliCommand("sweep merge " + two);
  EXPECT_EQ(refused.exitCode, 2);
  EXPECT_NE(refused.err.find("1 of 10 cells are not finished"), std::string::npos) << refused.err;
  const CliRun partial = runCliCommand("sweep merge " + two + " --partial");
  EXPECT_EQ(partial.exitCode, 0) << partial.err;
  EXPECT_EQ(json::parse(readFile(d.file("two") + "/merged/results.json")).at("missing").size(), 1u);
}

}  // namespace
}  // namespace kvs::test
