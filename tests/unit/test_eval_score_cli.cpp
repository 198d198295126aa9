// kvstudio-cli eval score, run as a user runs it, on small predictions files the tests write.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "model/cli_runner.h"
#include "test_util.h"

namespace kvs::test {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The two qa_f1 examples (1.0 and 0.5), one short and one long context.
class EvalScoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    writeFile(dir_.file("qasper.jsonl"),
              "{\"pred\": \"The Eiffel tower!\", \"answers\": [\"eiffel tower\"], "
              "\"all_classes\": null, \"length\": 3000}\n"
              "{\"pred\": \"in Paris France\", \"answers\": [\"Paris\"], \"all_classes\": null, "
              "\"length\": 9000}\n");
  }
  std::string file(const std::string& name) const { return dir_.file(name); }
  TempDir dir_;
};

TEST_F(EvalScoreCli, PrintsTheTaskScore) {
  const CliRun run =
      runCliCommand("eval score --task qasper --predictions " + file("qasper.jsonl"));
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, "qasper: 75.00 (qa_f1_score, 2 predictions)\n");
}

TEST_F(EvalScoreCli, JsonHasEverySamplesScore) {
  const CliRun run = runCliCommand("eval score --task qasper --json --longbench-e --predictions " +
                                   file("qasper.jsonl"));
  ASSERT_EQ(run.exitCode, 0) << run.err;
  const nlohmann::json out = nlohmann::json::parse(run.out);
  EXPECT_EQ(out.at("metric"), "qa_f1_score");
  EXPECT_EQ(out.at("score"), 75.0);
  const nlohmann::json& samples = out.at("per_sample");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].at("line"), 1);
  EXPECT_EQ(samples[0].at("score"), 1.0);
  EXPECT_EQ(samples[1].at("score"), 0.5);
  const nlohmann::json& buckets = out.at("by_length");
  EXPECT_EQ(buckets.at("0-4k").at("score"), 100.0);
  EXPECT_TRUE(buckets.at("4-8k").at("score").is_null());
  EXPECT_EQ(buckets.at("8k+").at("samples"), 1);
}

TEST_F(EvalScoreCli, FirstLineRuleOnTrec) {
  // trec is scored on the first line only: "Location" alone, 1.0; the second line would halve it.
  writeFile(file("trec.jsonl"),
            "{\"pred\": \"\\nLocation\\nHuman being\", \"answers\": [\"Location\"], "
            "\"all_classes\": [\"Location\", \"Human being\"], \"length\": 5}\n");
  const CliRun run = runCliCommand("eval score --task trec --predictions " + file("trec.jsonl"));
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, "trec: 100.00 (classification_score, 1 prediction)\n");
}

TEST_F(EvalScoreCli, ABadLineIsNamedByNumber) {
  writeFile(file("bad.jsonl"), "{\"pred\": \"a\", \"answers\": [\"a\"]}\n{\"answers\": [\"a\"]}\n");
  const CliRun run = runCliCommand("eval score --task qasper --predictions " + file("bad.jsonl"));
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_TRUE(has(run.err, "bad.jsonl line 2 has no \"pred\"")) << run.err;
}

TEST_F(EvalScoreCli, UnknownAndChineseTasksAreRefused) {
  const CliRun unknown =
      runCliCommand("eval score --task nosuch --predictions " + file("qasper.jsonl"));
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_TRUE(has(unknown.err, "unknown LongBench task 'nosuch'")) << unknown.err;
  const CliRun chinese =
      runCliCommand("eval score --task dureader --predictions " + file("qasper.jsonl"));
  EXPECT_EQ(chinese.exitCode, 2);
  EXPECT_TRUE(has(chinese.err, "cannot score dureader") && has(chinese.err, "jieba"))
      << chinese.err;
}

TEST_F(EvalScoreCli, AMissingTaskTableSaysWhereItLookedAndTheFix) {
  const CliRun option = runCliCommand("eval score --task qasper --longbench-dir " + file("none") +
                                      " --predictions " + file("qasper.jsonl"));
  EXPECT_EQ(option.exitCode, 2);
  EXPECT_TRUE(has(option.err, file("none") + "/dataset2metric.json is missing")) << option.err;
  const CliRun env = runCliCommand("eval score --task qasper --predictions " + file("qasper.jsonl"),
                                   "export KVS_LONGBENCH_DIR=" + file("none2") + ";");
  EXPECT_TRUE(has(env.err, "none2/dataset2metric.json") && has(env.err, "$KVS_LONGBENCH_DIR"))
      << env.err;
}

TEST_F(EvalScoreCli, EvalIsAParentCommand) {
  const CliRun bare = runCliCommand("eval");
  EXPECT_NE(bare.exitCode, 0);
  const CliRun missing = runCliCommand("eval score --task qasper");
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_TRUE(has(missing.err, "--predictions")) << missing.err;
  EXPECT_TRUE(has(runCliCommand("nosuch").err, "methods, eval and sweep"));
}

}  // namespace
}  // namespace kvs::test
