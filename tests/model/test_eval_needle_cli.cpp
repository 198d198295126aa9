// kvstudio-cli eval needle, run as a user runs it on stories260K: per setting a grid of depth rows
// x length columns, one record per cell and setting, a rerun that writes nothing new, a needle
// file with several needles, and the errors a user can meet.

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include <H5Cpp.h>

#include "cli_runner.h"
#include "eval/eval_h5.h"
#include "test_util.h"

namespace kvs::test {
namespace {

class EvalNeedleCli : public ::testing::Test {
 protected:
  std::string args(const std::string& grid) const {
    return "eval needle --model " + modelPath("stories260K.bin") + " " + grid +
           " --methods full,kvmerger,h2o --budgets 0.5 --out " + dir_.file("out.jsonl");
  }
  std::vector<nlohmann::json> records() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(readFile(dir_.file("out.jsonl")));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  TempDir dir_;
};

TEST_F(EvalNeedleCli, PrintsAGridPerSettingAndWritesARecordPerCellAndSetting) {
  const std::string grid = "--lengths 64,128,480 --depths 0,0.5,1";
  const CliRun run = runCliCommand(args(grid));
  ASSERT_EQ(run.exitCode, 0) << run.err;
  for (const char* setting : {"full:", "kvmerger", "h2o"}) {
    EXPECT_NE(run.out.find(setting), std::string::npos) << run.out;
  }
  EXPECT_NE(run.out.find("full: contains-rate | mean answer NLL (nats/token); 1 needle per cell"),
            std::string::npos)
      << run.out;
  // The header: depth, then the lengths twice (contains-rate | NLL); then a row per depth.
  EXPECT_NE(run.out.find("depth      64    128    480  |     64    128    480\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("\n0.5   "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("all cells: contains-rate "), std::string::npos) << run.out;
  const auto written = records();
  ASSERT_EQ(written.size(), 3u * 3 * 3);
  for (const auto& r : written) {
    EXPECT_EQ(r["task"], "needle");
    EXPECT_EQ(r["prompt_tokens"], r["length"]);
    EXPECT_TRUE(r["contains"] == 0 || r["contains"] == 1);
    EXPECT_GE(r["first_token_rank"].get<int>(), 1);
    EXPECT_GT(r["answer_nll"].get<double>(), 0.0);
  }
  EXPECT_EQ(written[0]["id"], "L64_d0");
  // The full cache's depth-1 row: its contains-rates, then its NLLs, one per length in order.
  std::istringstream row(run.out.substr(run.out.find("\n1 ") + 1));
  std::vector<std::string> cells(8);
  for (auto& c : cells) row >> c;
  EXPECT_EQ(cells[0], "1");
  EXPECT_EQ(cells[4], "|");
  for (size_t length = 0; length < 3; ++length) {
    const nlohmann::json& r = written[(length * 3 + 2) * 3];  // depth 1, full
    ASSERT_EQ(r["depth"], 1);
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", r["contains"].get<double>());
    EXPECT_EQ(cells[1 + length], text);
    std::snprintf(text, sizeof text, "%.3f", r["answer_nll"].get<double>());
    EXPECT_EQ(cells[5 + length], text);
  }
  EXPECT_NE(run.err.find("27/27 cells x settings"), std::string::npos) << run.err;
  // Again, as JSON: everything is there, nothing is redone; the JSON grid is the records'.
  const std::string before = readFile(dir_.file("out.jsonl"));
  const CliRun again = runCliCommand(args(grid) + " --json");
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(readFile(dir_.file("out.jsonl")), before);
  const nlohmann::json table = nlohmann::json::parse(again.out);
  ASSERT_EQ(table.size(), 3u * 3 * 3);
  EXPECT_EQ(table[0]["setting"], "full");
  EXPECT_EQ(table[1]["length"], 128);
  EXPECT_EQ(table[3]["depth"], 0.5);
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i]["samples"], 1);
    // Records are written cell by cell, settings inside; the table is settings, then cells.
    const size_t setting = i / 9, depth = i / 3 % 3, length = i % 3;
    const nlohmann::json& r = written[(length * 3 + depth) * 3 + setting];
    EXPECT_EQ(table[i]["setting"], r["setting"]);
    EXPECT_EQ(table[i]["length"], r["length"]);
    EXPECT_EQ(table[i]["depth"], r["depth"]);
    EXPECT_EQ(table[i]["mean_nll"], r["answer_nll"]);
    EXPECT_EQ(table[i]["contains_rate"].get<double>(), r["contains"].get<double>());
  }
}

TEST_F(EvalNeedleCli, ANeedleFileWithSeveralNeedlesAveragesThemPerCell) {
  writeFile(dir_.file("needles.json"),
            R"([{"needle": "The secret word is apple.", "question": "What is the secret word?",
                 "answer": "apple"},
                {"needle": "Lily has a red ball.", "question": "What does Lily have?",
                 "answer": "a red ball"}])");
  const CliRun run = runCliCommand(
      args("--lengths 128 --depths 0.5 --json --needle-file " + dir_.file("needles.json")));
  ASSERT_EQ(run.exitCode, 0) << run.err;
  const nlohmann::json table = nlohmann::json::parse(run.out);
  ASSERT_EQ(table.size(), 3u);
  const auto written = records();
  ASSERT_EQ(written.size(), 2u * 3);
  EXPECT_EQ(written[0]["id"], "L128_d0.5_n1");
  EXPECT_EQ(written[3]["id"], "L128_d0.5_n2");
  EXPECT_EQ(written[3]["answer"], "a red ball");
  EXPECT_EQ(table[0]["samples"], 2);
  EXPECT_DOUBLE_EQ(
      table[0]["mean_nll"].get<double>(),
      (written[0]["answer_nll"].get<double>() + written[3]["answer_nll"].get<double>()) / 2);
}

// --h5: the grid as /eval/needle of an HDF5 file, the numbers the --json table prints; a file
// that is not HDF5 is refused before any work.
TEST_F(EvalNeedleCli, WritesTheGridAsAnHdf5Group) {
  const std::string h5 = dir_.file("results.h5");
  writeFile(dir_.file("notes.txt"), "mine\n");
  const CliRun refused =
      runCliCommand(args("--lengths 64 --depths 0,1 --h5 " + dir_.file("notes.txt")));
  EXPECT_EQ(refused.exitCode, 2) << refused.err;
  EXPECT_NE(refused.err.find("is there and is not an HDF5 file"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.jsonl")));

  const CliRun run = runCliCommand(args("--lengths 64 --depths 0,1 --json --h5 " + h5));
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_NE(run.err.find("wrote /eval/needle of " + h5), std::string::npos) << run.err;
  const nlohmann::json table = nlohmann::json::parse(run.out);
  ASSERT_EQ(table.size(), 3u * 2);
  const H5::H5File file(h5, H5F_ACC_RDONLY);
  const H5::Group grid = file.openGroup("eval/needle/grid");
  std::vector<double> nll(table.size()), contains(table.size());
  grid.openDataSet("mean_nll").read(nll.data(), H5::PredType::NATIVE_DOUBLE);
  grid.openDataSet("contains_rate").read(contains.data(), H5::PredType::NATIVE_DOUBLE);
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_DOUBLE_EQ(nll[i], table[i]["mean_nll"].get<double>()) << i;
    EXPECT_DOUBLE_EQ(contains[i], table[i]["contains_rate"].get<double>()) << i;
  }
  EXPECT_EQ(eval::readEvalH5(h5).records, records());
  // A rerun of the same records replaces its own group.
  EXPECT_EQ(runCliCommand(args("--lengths 64 --depths 0,1 --h5 " + h5)).exitCode, 0);
}

TEST_F(EvalNeedleCli, BadGridsAndNeedlesAreRefusedBeforeAnyWork) {
  const auto refused = [&](const std::string& grid, const std::string& message) {
    const CliRun run = runCliCommand(args(grid));
    EXPECT_EQ(run.exitCode, 2) << grid << "\n" << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << grid << "\n" << run.err;
  };
  refused("--lengths 64,500", "--lengths 500 and the answer's room of 16 tokens");
  refused("--lengths 64,500", "give lengths up to 496, or a smaller --max-new-tokens");
  refused("--lengths 64 --depths 0,1.5", "--depths 1.5 is outside [0, 1]");
  refused("--lengths 64 --needle '' --question q --answer a", "the needle is empty");
  refused("--lengths 64 --needle 'The cat is red.'",
          "--needle, --question and --answer go together");
  writeFile(dir_.file("short.txt"), "# a comment\nOnce upon a time, there was a cat.\n\n");
  refused("--lengths 64 --haystack " + dir_.file("short.txt"),
          "the haystack " + dir_.file("short.txt") + " has ");
  refused("--lengths 64 --haystack " + dir_.file("short.txt"), "give a longer --haystack");
  refused("--lengths 64 --haystack " + dir_.file("none.txt"), "cannot read the haystack");
  writeFile(dir_.file("needles.json"), R"([{"needle": "x", "question": "y"}])");
  refused("--lengths 64 --needle-file " + dir_.file("needles.json"), "entry 1 has no \"answer\"");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.jsonl")));
}

}  // namespace
}  // namespace kvs::test
