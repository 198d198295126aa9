// eval longbench's core on the real stories260K: prompts built as LongBench's pred.py builds
// them, one record per sample and setting scored with the task's metric, the full cache's
// prediction equal to plain greedy generation, and resuming a stopped run.

#include <gtest/gtest.h>

#include <set>

#include "eval/longbench_prompt.h"
#include "eval/longbench_run.h"
#include "eval/longbench_scorer.h"
#include "longbench_fixture.h"
#include "session/variant.h"
#include "stories_fixture.h"
#include "util/error.h"

namespace kvs::test {
namespace {

class LongBenchRun : public Stories {
 protected:
  static eval::LongBenchTasks tasks() {
    return eval::LongBenchTasks::load(eval::findLongBenchDataDir());
  }
  // full, KVMerger and H2O at 50%, on two tasks of n samples each.
  eval::LongBenchRun run(const std::string& data, int n) const {
    eval::LongBenchRun r;
    r.dataDir = data;
    r.tasks = {"passage_retrieval_en", "qasper"};
    r.model = "stories260K.bin";
    r.limit = n;
    r.settings = fullAndHalfBudget({"kvmerger", "h2o"});
    return r;
  }
};

TEST_F(LongBenchRun, TemplatesAreFilledAsPythonsFormat) {
  EXPECT_EQ(eval::fillTemplate("A {context} {{x}} B {input}", "ctx", "q"), "A ctx {x} B q");
  EXPECT_EQ(eval::fillTemplate("{input}{context}", "{input}", "}"), "}{input}");  // not re-read
  EXPECT_THROW(eval::fillTemplate("{question}", "c", "i"), KvsError);
  EXPECT_THROW(eval::fillTemplate("a } b", "c", "i"), KvsError);
  EXPECT_TRUE(eval::wrappedForChat("qasper"));
  for (const char* plain : {"trec", "triviaqa", "samsum", "lsht", "lcc", "repobench-p"}) {
    EXPECT_FALSE(eval::wrappedForChat(plain)) << plain;
  }
}

// pred.py: tokenized with BOS; over the limit, the first and last limit/2 tokens decoded and
// joined; then [INST]...[/INST] and tokenized again.
TEST_F(LongBenchRun, LongPromptsAreCutInTheMiddleThenWrapped) {
  const eval::LongBenchTasks all = tasks();
  const eval::LongBenchTask& task = all.find("qasper");
  eval::LongBenchSample s;
  s.context = tinyStories()[0] + " " + tinyStories()[1];
  s.input = "Who is Lily?";
  const std::string filled = eval::fillTemplate(task.promptTemplate, s.context, s.input);
  const std::vector<int> ids = tokenizer().encode(filled, true);
  ASSERT_GT(ids.size(), 300u);

  const eval::LongBenchPrompt whole =
      eval::buildLongBenchPrompt(tokenizer(), task, s, 100000, true);
  EXPECT_FALSE(whole.truncated);
  EXPECT_EQ(whole.tokensBefore, int(ids.size()));
  EXPECT_EQ(whole.ids, tokenizer().encode("[INST]" + filled + "[/INST]", true));

  const eval::LongBenchPrompt cut = eval::buildLongBenchPrompt(tokenizer(), task, s, 201, false);
  EXPECT_TRUE(cut.truncated);
  const std::vector<int> head(ids.begin() + 1, ids.begin() + 100), tail(ids.end() - 100, ids.end());
  const std::string text = tokenizer().decode(cut.ids);
  EXPECT_EQ(text.rfind(tokenizer().decode(head), 0), 0u) << text;  // starts with the head
  const std::string end = tokenizer().decode(tail);
  EXPECT_EQ(text.substr(text.size() - end.size()), end);
  EXPECT_NEAR(double(cut.ids.size()), 200.0, 4.0);  // BOS + 99 + 100, give or take a re-split
}

TEST_F(LongBenchRun, RecordsEverySampleAndSettingScoredWithTheTasksMetric) {
  TempDir dir;
  writeLongBenchData(dir.path(), 3);
  const eval::LongBenchRun r = run(dir.path(), 3);
  eval::EvalRecords records = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
  const auto table = eval::runLongBench(model(), tokenizer(), tasks(), r, records, {});
  ASSERT_EQ(records.records().size(), 2u * 3 * 3);
  ASSERT_EQ(table.size(), 2u * 3);
  const eval::LongBenchTasks all = tasks();
  for (const nlohmann::json& rec : records.records()) {
    const eval::LongBenchTask& task = all.find(rec["task"]);
    const double expected =
        eval::sampleScore(task.metric, task.firstLineOnly, rec["pred"].get<std::string>(),
                          rec["answers"].get<std::vector<std::string>>(), {});
    EXPECT_EQ(rec["score"].get<double>(), expected);
    EXPECT_LE(rec["generated_tokens"].get<int>(), task.maxNewTokens);
    if (rec["setting"] == "full") {
      EXPECT_EQ(rec["kv_bytes"], rec["kv_bytes_full"]);
    } else {
      EXPECT_LT(rec["kv_bytes"].get<int64_t>(), rec["kv_bytes_full"].get<int64_t>());
    }
  }
  // The full cache's prediction is plain greedy generation of the same prompt.
  const eval::LongBenchTask& task = all.find("passage_retrieval_en");
  const auto samples = eval::readLongBenchSamples(dir.file("passage_retrieval_en.jsonl"));
  const eval::LongBenchPrompt prompt = eval::buildLongBenchPrompt(
      tokenizer(), task, samples[0],
      eval::promptLimit(r, task, 512, eval::promptReserve(tokenizer(), true)), true);
  EXPECT_TRUE(prompt.truncated);
  GenerationRequest request;
  request.promptIds = prompt.ids;
  request.steps = int(prompt.ids.size()) + task.maxNewTokens - 1;
  request.sampling.temperature = 0;
  request.stopIds = {tokenizer().bosId(), tokenizer().eosId()};
  const std::string greedy = tokenizer().decode(generate(model(), request).generatedIds);
  EXPECT_EQ(records.records()[0]["pred"].get<std::string>(), greedy);
  EXPECT_EQ(records.records()[0]["prompt_tokens_used"].get<size_t>(), prompt.ids.size());
  // The table is eval.py's: 100 x the mean.
  double sum = 0;
  for (int i = 0; i < 3; ++i) sum += records.records()[i * 3]["score"].get<double>();
  EXPECT_NEAR(table[0].score, 100 * sum / 3, 0.005);
}

TEST_F(LongBenchRun, AStoppedRunResumesWithoutRedoingOrLosingSamples) {
  TempDir dir;
  writeLongBenchData(dir.path(), 2);
  const eval::LongBenchRun r = run(dir.path(), 2);
  std::vector<nlohmann::json> reference;
  {
    eval::EvalRecords all = eval::EvalRecords::open(dir.file("all.jsonl"), r.model, nullptr);
    eval::runLongBench(model(), tokenizer(), tasks(), r, all, {});
    reference = all.records();
  }
  {
    eval::EvalRecords part = eval::EvalRecords::open(dir.file("part.jsonl"), r.model, nullptr);
    EXPECT_THROW(eval::runLongBench(model(), tokenizer(), tasks(), r, part,
                                    [](int done, int) { return done < 5; }),
                 KvsError);
    EXPECT_EQ(part.records().size(), 5u);
  }
  // A kill while a record was being written leaves half a line: it is dropped and redone.
  writeFile(dir.file("part.jsonl"), readFile(dir.file("part.jsonl")) + "{\"task\": \"qas");
  std::vector<std::string> notes;
  eval::EvalRecords part = eval::EvalRecords::open(dir.file("part.jsonl"), r.model, &notes);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("line 6 was cut short"), std::string::npos) << notes[0];
  int calls = 0;
  eval::runLongBench(model(), tokenizer(), tasks(), r, part, [&](int, int) { return ++calls; });
  EXPECT_EQ(calls, int(reference.size()) - 5);  // only what was missing
  ASSERT_EQ(part.records().size(), reference.size());
  std::set<std::string> keys;
  for (size_t i = 0; i < reference.size(); ++i) {
    EXPECT_EQ(part.records()[i]["pred"], reference[i]["pred"]) << i;
    keys.insert(eval::EvalRecords::keyOf(part.records()[i]["task"], part.records()[i]["id"],
                                         part.records()[i]["params"]));
  }
  EXPECT_EQ(keys.size(), reference.size());
}

TEST_F(LongBenchRun, DamagedOrForeignRecordsAreRefused) {
  TempDir dir;
  writeFile(dir.file("bad.jsonl"), "not json\n{}\n");
  EXPECT_NE(errorOf([&] {
              eval::EvalRecords::open(dir.file("bad.jsonl"), "m", nullptr);
            }).find("line 1 is not an evaluation record"),
            std::string::npos);
  writeFile(dir.file("other.jsonl"),
            R"({"task":"qasper","id":"1","params":{},"model":"llama.bin","score":1})"
            "\n");
  EXPECT_NE(errorOf([&] {
              eval::EvalRecords::open(dir.file("other.jsonl"), "m", nullptr);
            }).find("holds results of the model llama.bin"),
            std::string::npos);
  // A task whose generation does not fit the context is refused before any work.
  eval::LongBenchRun r;
  r.maxLength = 0;
  EXPECT_NE(errorOf([&] {
              eval::promptLimit(r, tasks().find("gov_report"), 512, 20);
            }).find("leaves no room for a prompt"),
            std::string::npos);
  r.maxLength = 600;
  EXPECT_NE(errorOf([&] {
              eval::promptLimit(r, tasks().find("qasper"), 512, 20);
            }).find("give at most 364"),
            std::string::npos);
}

}  // namespace
}  // namespace kvs::test
