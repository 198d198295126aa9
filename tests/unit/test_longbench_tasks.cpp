// LongBench's task table (data/longbench) and predictions files: what is read, and the messages
// for every way the files can be missing or wrong.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "eval/longbench_predictions.h"
#include "eval/longbench_tasks.h"
#include "test_util.h"

namespace kvs::eval {
namespace {

const std::string kShippedDir = std::string(KVS_SOURCE_DIR) + "/data/longbench";

LongBenchTasks shipped() {
  return LongBenchTasks::load({kShippedDir, "the test"});
}

// A copy of the shipped table in `dir` with `file` replaced by `content` ("" removes it).
void writeTable(const test::TempDir& dir, const std::string& file, const std::string& content) {
  for (const char* name : {"dataset2prompt.json", "dataset2maxlen.json", "dataset2metric.json"}) {
    if (name == file && content.empty()) continue;
    test::writeFile(dir.file(name),
                    name == file ? content : test::readFile(kShippedDir + "/" + name));
  }
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(LongBenchTasks, TheShippedTableHasLongBenchsTwentyOneTasks) {
  const LongBenchTasks tasks = shipped();
  EXPECT_EQ(tasks.all().size(), 21u);
  const LongBenchTask& qasper = tasks.find("qasper");
  EXPECT_EQ(qasper.metric, LongBenchMetric::kQaF1);
  EXPECT_EQ(qasper.maxNewTokens, 128);
  EXPECT_TRUE(has(qasper.promptTemplate, "{context}") && has(qasper.promptTemplate, "{input}"));
  EXPECT_FALSE(qasper.firstLineOnly);
  EXPECT_EQ(tasks.find("gov_report").maxNewTokens, 512);
  EXPECT_EQ(tasks.find("lcc").metric, LongBenchMetric::kCodeSim);
  EXPECT_EQ(tasks.find("passage_retrieval_en").metric, LongBenchMetric::kRetrieval);
  for (const char* name : {"trec", "triviaqa", "samsum", "lsht"}) {
    EXPECT_TRUE(tasks.find(name).firstLineOnly) << name;
  }
}

TEST(LongBenchTasks, ChineseTasksAreRefusedNamingTheTaskAndWhy) {
  const LongBenchTasks tasks = shipped();
  for (const char* name :
       {"multifieldqa_zh", "dureader", "vcsum", "lsht", "passage_retrieval_zh"}) {
    const std::string message = test::errorOf([&] { tasks.scorable(name); });
    EXPECT_TRUE(has(message, name) && has(message, "Chinese")) << message;
    EXPECT_TRUE(has(message, "qasper")) << message;  // and which can be scored
  }
  EXPECT_TRUE(has(test::errorOf([&] { tasks.scorable("dureader"); }), "jieba"));
  EXPECT_EQ(test::errorOf([&] { tasks.scorable("qasper"); }), "(no error)");
}

TEST(LongBenchTasks, AnUnknownTaskListsTheKnownOnes) {
  const LongBenchTasks tasks = shipped();
  const std::string message = test::errorOf([&] { tasks.find("nosuch"); });
  EXPECT_TRUE(has(message, "unknown LongBench task 'nosuch'") && has(message, "repobench-p"))
      << message;
  EXPECT_TRUE(has(test::errorOf([&] { tasks.find("qasper_e"); }), "--task qasper --longbench-e"));
}

TEST(LongBenchTasks, AMissingFileIsNamedWithTheFix) {
  test::TempDir dir;
  writeTable(dir, "dataset2maxlen.json", "");
  const std::string message = test::errorOf([&] {
    LongBenchTasks::load({dir.path(), "--longbench-dir"});
  });
  EXPECT_TRUE(has(message, dir.file("dataset2maxlen.json") + " is missing")) << message;
  EXPECT_TRUE(has(message, "--longbench-dir") && has(message, "KVS_LONGBENCH_DIR")) << message;
}

TEST(LongBenchTasks, DamagedFilesAreNamed) {
  test::TempDir dir;
  writeTable(dir, "dataset2prompt.json", "{\"qasper\": \"Answer");
  EXPECT_TRUE(has(test::errorOf([&] {
                    LongBenchTasks::load({dir.path(), "t"});
                  }),
                  dir.file("dataset2prompt.json") + " is not valid JSON"));
  writeTable(dir, "dataset2maxlen.json", "{\"narrativeqa\": \"many\"}");
  const std::string wrongType = test::errorOf([&] { LongBenchTasks::load({dir.path(), "t"}); });
  EXPECT_TRUE(has(wrongType, "dataset2maxlen.json: the value of \"narrativeqa\" should be"))
      << wrongType;
  writeTable(dir, "dataset2metric.json", "{\"qasper\": \"bleu_score\"}");
  EXPECT_TRUE(has(test::errorOf([&] { LongBenchTasks::load({dir.path(), "t"}); }), "qasper"));
}

TEST(LongBenchTasks, TheFolderComesFromTheOptionThenTheEnvironmentThenTheCheckout) {
  ::unsetenv(kLongBenchDirVariable);
  EXPECT_EQ(findLongBenchDataDir().path, kShippedDir);
  ::setenv(kLongBenchDirVariable, "/elsewhere", 1);
  EXPECT_EQ(findLongBenchDataDir().path, "/elsewhere");
  EXPECT_EQ(findLongBenchDataDir("/given").path, "/given");
  ::unsetenv(kLongBenchDirVariable);
}

TEST(Predictions, ReadsLongBenchsPredFormatSkippingBlankLines) {
  test::TempDir dir;
  test::writeFile(dir.file("p.jsonl"),
                  "{\"pred\": \"Paris\", \"answers\": [\"Paris\"], \"all_classes\": null, "
                  "\"length\": 3500}\n\n"
                  "{\"pred\": \"3\", \"answers\": [3]}\n");
  const PredictionsFile file = readPredictions(dir.file("p.jsonl"));
  ASSERT_EQ(file.records.size(), 2u);
  EXPECT_EQ(file.records[0].length, 3500);
  EXPECT_FALSE(file.records[0].allClasses.has_value());
  EXPECT_EQ(file.records[1].line, 3);
  EXPECT_EQ(file.records[1].answers, std::vector<std::string>{"3"});  // str() of the int
}

TEST(Predictions, ABadLineIsNamedByItsNumber) {
  test::TempDir dir;
  const auto errorFor = [&](const std::string& secondLine) {
    test::writeFile(dir.file("p.jsonl"),
                    "{\"pred\": \"a\", \"answers\": [\"a\"]}\n" + secondLine + "\n");
    return test::errorOf([&] { readPredictions(dir.file("p.jsonl")); });
  };
  EXPECT_TRUE(has(errorFor("{\"pred\": \"a\""), "p.jsonl line 2 is not JSON"));
  EXPECT_TRUE(has(errorFor("{\"answers\": [\"a\"]}"), "line 2 has no \"pred\""));
  EXPECT_TRUE(has(errorFor("{\"pred\": \"a\"}"), "line 2 has no \"answers\""));
  EXPECT_TRUE(has(errorFor("{\"pred\": \"a\", \"answers\": \"a\"}"), "line 2: \"answers\""));
  EXPECT_TRUE(has(errorFor("[1]"), "line 2 is not a JSON object"));
  EXPECT_TRUE(has(test::errorOf([&] { readPredictions(dir.file("none.jsonl")); }),
                  "cannot read the predictions file"));
}

TEST(Predictions, TaskRulesNeedTheirFieldsAndNameTheLine) {
  const LongBenchTasks tasks = shipped();
  test::TempDir dir;
  test::writeFile(dir.file("trec.jsonl"),
                  "{\"pred\": \"Location\", \"answers\": [\"Location\"]}\n");
  const PredictionsFile trec = readPredictions(dir.file("trec.jsonl"));
  EXPECT_TRUE(has(test::errorOf([&] { scorePredictions(tasks.find("trec"), trec, false); }),
                  "line 1: no \"all_classes\""));
  EXPECT_TRUE(has(test::errorOf([&] { scorePredictions(tasks.find("qasper"), trec, true); }),
                  "line 1: no \"length\""));
  EXPECT_TRUE(
      has(test::errorOf([&] { scorePredictions(tasks.find("passage_retrieval_en"), trec, false); }),
          "line 1: the answer \"Location\" has no \"Paragraph N\""));
}

TEST(Predictions, ScoresAFile) {
  const LongBenchTasks tasks = shipped();
  test::TempDir dir;
  test::writeFile(
      dir.file("p.jsonl"),
      "{\"pred\": \"The Eiffel tower!\", \"answers\": [\"eiffel tower\"], \"length\": 10}\n"
      "{\"pred\": \"in Paris France\", \"answers\": [\"Paris\"], \"length\": 9000}\n");
  const ScoredPredictions s =
      scorePredictions(tasks.find("qasper"), readPredictions(dir.file("p.jsonl")), true);
  EXPECT_EQ(s.sampleScores, (std::vector<double>{1.0, 0.5}));
  EXPECT_DOUBLE_EQ(s.score, 75.0);
  ASSERT_TRUE(s.byLength.has_value());
  EXPECT_EQ(s.byLength->upTo4k, 100.0);
  EXPECT_FALSE(s.byLength->from4kTo8k.has_value());
  EXPECT_EQ(s.byLength->from8k, 50.0);
}

}  // namespace
}  // namespace kvs::eval
