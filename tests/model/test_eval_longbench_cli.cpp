// kvstudio-cli eval longbench, run as a user runs it on small LongBench-format files: the task x
// setting table, one record per sample and setting, a run killed with SIGKILL that resumes
// without redoing or losing a sample, and the errors a user can meet.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "longbench_fixture.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "test_util.h"

namespace kvs::test {
namespace {

class EvalLongBenchCli : public ::testing::Test {
 protected:
  void SetUp() override { writeLongBenchData(dir_.path(), 12); }
  std::string args(int limit) const {
    return "eval longbench --model " + modelPath("stories260K.bin") + " --data " + dir_.path() +
           " --tasks passage_retrieval_en,passage_count --methods full,kvmerger,h2o --budgets 0.5 "
           "--limit " +
           std::to_string(limit) + " --out " + dir_.file("out.jsonl");
  }
  // Each record's (task, id, setting) and how often it appears.
  std::map<std::string, int> keys() const {
    std::map<std::string, int> seen;
    std::istringstream in(readFile(dir_.file("out.jsonl")));
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json r = nlohmann::json::parse(line);
      ++seen[r["task"].get<std::string>() + "/" + r["id"].get<std::string>() + "/" +
             r["setting"].get<std::string>()];
    }
    return seen;
  }
  TempDir dir_;
};

TEST_F(EvalLongBenchCli, PrintsTheTableAndWritesARecordPerSampleAndSetting) {
  const CliRun run = runCliCommand(args(2) + " --json");
  ASSERT_EQ(run.exitCode, 0) << run.err;
  const nlohmann::json table = nlohmann::json::parse(run.out);
  ASSERT_EQ(table.size(), 2u * 3);
  EXPECT_EQ(table[0]["task"], "passage_retrieval_en");
  EXPECT_EQ(table[0]["setting"], "full");
  for (const auto& row : table) {
    EXPECT_EQ(row["samples"], 2);
    EXPECT_GE(row["score"].get<double>(), 0.0);
    EXPECT_LE(row["score"].get<double>(), 100.0);
  }
  EXPECT_EQ(keys().size(), 2u * 2 * 3);
  // The full cache's record of each sample keeps the prompt as the model read it (its passages,
  // BOS hidden); the other settings' records do not repeat it.
  std::istringstream lines(readFile(dir_.file("out.jsonl")));
  int prompts = 0;
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json r = nlohmann::json::parse(line);
    EXPECT_EQ(r.contains("prompt"), r["setting"] == "full") << line.substr(0, 200);
    if (!r.contains("prompt")) continue;
    ++prompts;
    EXPECT_NE(r["prompt"].get<std::string>().find("\n\nParagraph 1: "),
              std::string::npos);
  }
  EXPECT_EQ(prompts, 2 * 2);
  // Again: everything is there, nothing is redone.
  const std::string before = readFile(dir_.file("out.jsonl"));
  const CliRun again = runCliCommand(args(2));
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(readFile(dir_.file("out.jsonl")), before);
  EXPECT_NE(again.out.find("passage_count"), std::string::npos) << again.out;
  const CliRun csv = runCliCommand(args(2) + " --csv");
  ASSERT_EQ(csv.exitCode, 0) << csv.err;
  EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')), "task,setting,samples,score");
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 1 + 2 * 3);
  char row[96];
  std::snprintf(row, sizeof row, "passage_retrieval_en,full,2,%.2f\n",
                table[0]["score"].get<double>());
  EXPECT_NE(csv.out.find(row), std::string::npos) << csv.out;
}

// SIGKILL once ten records are written, then the same command: every (sample, setting) exactly
// once, whatever the kill cut.
TEST_F(EvalLongBenchCli, AKilledRunResumesWithoutRedoingOrLosingSamples) {
  const std::string out = dir_.file("out.jsonl");
  const std::string script = "( " + std::string(KVS_CLI_PATH) + " " + args(12) +
                             " > /dev/null 2>&1 & pid=$!; "
                             "while [ \"$(cat " +
                             out +
                             " 2>/dev/null | wc -l)\" -lt 10 ]; do "
                             "kill -0 $pid 2>/dev/null || break; sleep 0.02; done; "
                             "kill -9 $pid; wait $pid; echo killed $? )";
  const CliRun killed = runCliCommand("", script + " > " + dir_.file("kill.log") + "; exit 0;");
  EXPECT_NE(readFile(dir_.file("kill.log")).find("killed 137"), std::string::npos)
      << readFile(dir_.file("kill.log"));
  const size_t written = keys().size();
  EXPECT_GE(written, 10u);
  EXPECT_LT(written, 2u * 12 * 3) << "the run ended before the kill";
  const CliRun resumed = runCliCommand(args(12));
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  const auto seen = keys();
  EXPECT_EQ(seen.size(), 2u * 12 * 3);
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1) << key;
}

// The same model as a Hugging Face folder (stories260K exported, its tokenizer.model beside it)
// gives the same prompts, predictions and scores as the llama2.c .bin.
TEST_F(EvalLongBenchCli, AHuggingFaceFolderScoresAsTheBin) {
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  HfExportOptions options;
  options.tokenizerPath = modelPath("tok512.model");
  writeHfCheckpoint(dir_.file("hf"), bin.config, bin.weights, options);
  const std::string common = " --data " + dir_.path() +
                             " --tasks passage_retrieval_en,qasper --methods full,kvmerger,h2o"
                             " --budgets 0.5 --limit 2 --json";
  const CliRun a = runCliCommand("eval longbench --model " + modelPath("stories260K.bin") + common +
                                 " --out " + dir_.file("bin.jsonl"));
  const CliRun b = runCliCommand("eval longbench --model " + dir_.file("hf") + common + " --out " +
                                 dir_.file("hf.jsonl"));
  ASSERT_EQ(a.exitCode, 0) << a.err;
  ASSERT_EQ(b.exitCode, 0) << b.err;
  EXPECT_EQ(a.out, b.out);  // the task x setting table
  std::istringstream binLines(readFile(dir_.file("bin.jsonl"))),
      hfLines(readFile(dir_.file("hf.jsonl")));
  int n = 0;
  for (std::string x, y; std::getline(binLines, x) && std::getline(hfLines, y); ++n) {
    const nlohmann::json r = nlohmann::json::parse(x), q = nlohmann::json::parse(y);
    for (const char* field : {"task", "id", "setting", "prompt_tokens_used", "pred", "score"}) {
      EXPECT_EQ(r[field], q[field]) << field << " of record " << n;
    }
  }
  EXPECT_EQ(n, 2 * 2 * 3);
}

TEST_F(EvalLongBenchCli, BadTasksDataAndLimitsAreRefusedBeforeAnyWork) {
  const std::string model = "eval longbench --model " + modelPath("stories260K.bin") + " --out " +
                            dir_.file("o.jsonl") + " --data " + dir_.path();
  CliRun run = runCliCommand(model + " --tasks nosuchtask");
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("nosuchtask"), std::string::npos) << run.err;
  run = runCliCommand(model + " --tasks dureader");
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("dureader"), std::string::npos) << run.err;
  run = runCliCommand(model + " --tasks trec");  // no trec.jsonl was written
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("trec.jsonl does not exist"), std::string::npos) << run.err;
  run = runCliCommand(model + " --tasks qasper --max-length 600");
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("--max-length 600 leaves no room"), std::string::npos) << run.err;
  run = runCliCommand(model + " --tasks qasper --budget 0.3");
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("takes --methods and --budgets"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("o.jsonl")) &&
               !readFile(dir_.file("o.jsonl")).empty());
}

}  // namespace
}  // namespace kvs::test
