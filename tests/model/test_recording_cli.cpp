// Recording through kvstudio-cli on stories260K: the recorded keys are llama2.c's, the file agrees
// with the printed JSON, and file problems never cost the user the generation.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/merge_analysis.h"
#include "cli_runner.h"
#include "io/recording_reader.h"

namespace kvs::test {
namespace {

const std::string kModel = "--model " + modelPath("stories260K.bin");
const std::string kGreedy = " --prompt 'Once upon a time' --temperature 0";

// Layers 0 and 4, positions 0-7, KV heads 0-3 of llama2.c's key cache (after RoPE).
TEST(RecordingCli, RecordedKeysEqualLlama2cKeyCache) {
  TempDir dir;
  const std::string file = dir.file("run.h5");
  // Positions 0-4 come from the prefill, 5-7 from decode steps appended one by one.
  const CliRun r = runCliCommand("generate " + kModel + kGreedy + " --steps 20 --record " + file);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("recorded 20 tokens to"), std::string::npos) << r.err;
  const RecordingReader reader(file);
  ASSERT_TRUE(reader.info().complete);
  ASSERT_EQ(reader.info().tokens, 20);

  std::istringstream dump(readFile(goldenPath("dump_once_upon_a_time_top5_kcache.txt")));
  int checked = 0;
  for (std::string line; std::getline(dump, line);) {
    std::istringstream ls(line);
    std::string tag, word;
    int layer, pos, head;
    if (!(ls >> tag) || tag != "k") continue;
    ls >> word >> layer >> word >> pos >> word >> head;
    const at::Tensor keys = reader.states(StateSource::kKeys, layer, head);  // [T, D]
    int d = 0;
    for (float expected; ls >> expected; ++d) {
      EXPECT_NEAR(keys[pos][d].item<float>(), expected, 1e-4 * std::abs(expected) + 1e-6)
          << "layer " << layer << " pos " << pos << " head " << head << " dim " << d;
    }
    EXPECT_EQ(d, reader.info().headDim);
    ++checked;
  }
  EXPECT_EQ(checked, 64);
}

TEST(RecordingCli, FileAgreesWithTheJsonOutput) {
  TempDir dir;
  const std::string file = dir.file("kv.h5");
  const CliRun r =
      runCliCommand("generate " + kModel + kGreedy +
                    " --steps 48 --json --method kvmerger --budget 0.5 --record " + file +
                    " --record-values --record-keys-prerope --record-attention --record-dtype "
                    "float16 --record-compress 4");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["recording"]["complete"], true);
  const RecordingReader reader(file);
  const RecordingInfo& info = reader.info();
  std::vector<int> ids = j["prompt_token_ids"];
  const std::vector<int> generated = j["generated_token_ids"];
  ids.insert(ids.end(), generated.begin(), generated.end());
  EXPECT_EQ(info.tokenIds, ids);
  EXPECT_EQ(info.tokenPieces[1], "▁Once");
  EXPECT_EQ(info.tokens, 48);
  EXPECT_EQ(info.prompt, "Once upon a time");
  EXPECT_EQ(info.stateDtype, "float16");
  EXPECT_EQ(info.seed, j["seed"].get<int64_t>());
  EXPECT_EQ(info.checkpointSha256.size(), 64u);
  EXPECT_EQ(nlohmann::json::parse(info.modelConfigJson), j["config"]);
  EXPECT_TRUE(reader.has(StateSource::kValues) && reader.has(StateSource::kKeysPrerope));
  EXPECT_EQ(reader.attention(0).sizes(), (std::vector<int64_t>{8, 5, 5}));

  ASSERT_EQ(info.variantNames, std::vector<std::string>{"kvmerger_0.50"});
  const VariantRecord v = reader.variant("kvmerger_0.50");
  EXPECT_EQ(v.generatedIds, generated);
  EXPECT_EQ(nlohmann::json::parse(v.paramsJson), j["compression"]);
  EXPECT_EQ(nlohmann::json::parse(v.figuresJson)["kv_bytes"], j["kv_bytes"]);
  // The eps each head used (searched: the budget is exact) travels with the recording.
  EXPECT_EQ(nlohmann::json::parse(v.figuresJson)["eps_used"], j["eps_used"]);
  EXPECT_EQ(j["eps_used"].size(), 5u);
  // Slots after compression plus one per decoded position, per (layer, KV head).
  const int decoded = 48 - 5;
  for (int l = 0; l < 5; ++l) {
    for (int h = 0; h < 4; ++h) {
      EXPECT_EQ(int(v.slotMap.head(l, h).size()), j["slots"][l][h].get<int>() + decoded);
    }
  }
}

TEST(RecordingCli, ExistingFileIsRefusedBeforeAnyWork) {
  TempDir dir;
  const std::string file = dir.file("taken.h5");
  { std::ofstream(file) << "keep me"; }
  const CliRun r = runCliCommand("generate " + kModel + kGreedy + " --steps 20 --record " + file);
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("already exists; pass --force"), std::string::npos) << r.err;
  EXPECT_EQ(readFile(file), "keep me");
  const CliRun forced =
      runCliCommand("generate " + kModel + kGreedy + " --steps 20 --force --record " + file);
  EXPECT_EQ(forced.exitCode, 0) << forced.err;
  EXPECT_TRUE(RecordingReader(file).info().complete);
}

// An unwritable path and a disk without room for the recording's start: found before anything
// is generated, one error line, exit code 2, no file left. (A disk filling up mid-run keeps the
// generation: test_recording_kill_and_full.cpp and kvs_io_tests, DiskFullMidRunStopsCleanly.)
TEST(RecordingCli, WriteFailuresAtTheStartStopTheRun) {
  const CliRun unwritable =
      runCliCommand("generate " + kModel + kGreedy + " --steps 200 --record /proc/no/such.h5");
  EXPECT_EQ(unwritable.exitCode, 2);
  EXPECT_EQ(unwritable.out, "");
  EXPECT_NE(unwritable.err.find("folder /proc/no does not exist"), std::string::npos)
      << unwritable.err;

  TempDir dir;
  const std::string file = dir.file("full.h5");
  // A 64 KiB file-size limit stands in for a nearly full disk (SIGXFSZ ignored: EFBIG).
  const CliRun full = runCliCommand(
      "generate " + kModel + kGreedy + " --steps 200 --record " + file + " --record-values",
      "ulimit -f 64; trap '' XFSZ;");
  EXPECT_EQ(full.exitCode, 2);
  EXPECT_EQ(full.out, "");
  EXPECT_NE(full.err.find("not enough disk space to record"), std::string::npos) << full.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a file was left behind";
}

// compare --record keeps the full cache's greedy run (the same states generate records) and one
// group per variant; several prompts give one file each.
TEST(RecordingCli, CompareRecordsTheReferenceRunAndEveryVariant) {
  TempDir dir;
  {
    std::ofstream(dir.file("prompts.txt"))
        << "Once upon a time\nThe little dog ran to the park and saw a big red ball.\n";
  }
  const CliRun r = runCliCommand(
      "compare " + kModel + " --prompts-file " + dir.file("prompts.txt") +
      " --methods kvmerger,h2o --budgets 0.5 --steps 40 --json --record " + dir.file("cmp.h5"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const CliRun g =
      runCliCommand("generate " + kModel + kGreedy + " --steps 40 --record " + dir.file("gen.h5"));
  ASSERT_EQ(g.exitCode, 0) << g.err;
  const RecordingReader compare(dir.file("cmp_p001.h5")), generate(dir.file("gen.h5"));
  EXPECT_TRUE(RecordingReader(dir.file("cmp_p002.h5")).info().complete);
  EXPECT_EQ(compare.info().tokenIds, generate.info().tokenIds);
  EXPECT_EQ(compare.info().tokens, 40);
  for (int l = 0; l < 5; ++l) {
    EXPECT_TRUE(at::allclose(compare.states(StateSource::kKeys, l),
                             generate.states(StateSource::kKeys, l), 1e-5, 1e-6))
        << "layer " << l;
  }
  EXPECT_EQ(compare.info().variantNames,
            (std::vector<std::string>{"full", "h2o_0.50", "kvmerger_0.50"}));
  for (const auto& v : j["variants"]) {
    if (v["prompt"] != 0) continue;
    const std::string name = v["method"] == "full" ? "full" : std::string(v["method"]) + "_0.50";
    const VariantRecord rec = compare.variant(name);
    EXPECT_EQ(rec.generatedIds, v["generated_token_ids"].get<std::vector<int>>()) << name;
    EXPECT_DOUBLE_EQ(nlohmann::json::parse(rec.figuresJson)["mean_kl"].get<double>(),
                     v["mean_kl"].get<double>());
    EXPECT_EQ(nlohmann::json::parse(rec.figuresJson)["eps_used"], v["eps_used"]) << name;
    int slots = 0;
    for (int l = 0; l < 5; ++l) {
      for (int h = 0; h < 4; ++h) slots += int(rec.slotMap.head(l, h).size());
    }
    EXPECT_GT(slots, 0) << name;
  }
}

std::vector<std::vector<std::string>> readCsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(readFile(path));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::string recordPrompt(const TempDir& dir, const std::string& name, int promptLine) {
  std::istringstream prompts(
      readFile(std::string(KVS_SOURCE_DIR) + "/data/prompts/tinystories_prompts.txt"));
  std::string prompt;
  for (int i = 0; i <= promptLine && std::getline(prompts, prompt);) {
    if (!prompt.empty() && prompt[0] != '#') ++i;
  }
  { std::ofstream(dir.file(name + ".txt")) << prompt; }
  const std::string file = dir.file(name + ".h5");
  const CliRun r =
      runCliCommand("generate " + kModel + " --prompt \"$(cat " + dir.file(name + ".txt") +
                    ")\" --temperature 0 --steps 460 " + "--record-attention --record " + file);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  return file;
}

TEST(AnalyzeCli, OutputsAgreeWithTheRecordedKeys) {
  TempDir dir;
  const std::string file = recordPrompt(dir, "a", 0);
  const RecordingReader reader(file);
  const int P = reader.info().promptTokens;
  ASSERT_GT(P, 100);
  const CliRun r =
      runCliCommand("analyze " + file + " --layer 3 --head 1 --similarity " + dir.file("sim.csv") +
                    " --sets " + dir.file("sets.csv") + " --adjacent " + dir.file("adj.csv") +
                    " --ratios " + dir.file("ratios.csv") + " --eps 0.8");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("compression ratio"), std::string::npos) << r.out;

  const at::Tensor keys = reader.states(StateSource::kKeys, 3, 1).narrow(0, 0, P);  // [P, D]
  const auto sim = readCsv(dir.file("sim.csv"));
  ASSERT_EQ(int(sim.size()), P + 1);
  for (int i : {0, 7, P - 1}) {
    for (int j : {0, 5, P - 2}) {
      const double expected = (keys[i] * keys[j]).sum().item<double>() /
                              (keys[i].norm().item<double>() * keys[j].norm().item<double>());
      EXPECT_NEAR(std::stod(sim[i + 1][j + 1]), expected, 1e-5) << i << "," << j;
    }
  }
  // Sets of head 1 cover the prompt in order, without gaps.
  const auto sets = readCsv(dir.file("sets.csv"));
  int next = 0;
  for (size_t i = 1; i < sets.size(); ++i) {
    EXPECT_EQ(sets[i][1], "1");
    EXPECT_EQ(std::stoi(sets[i][3]), next);
    next = std::stoi(sets[i][4]) + 1;
  }
  EXPECT_EQ(next, P);
  // The ratio of layer 3 from the CSV equals the library's, with the prompt's attention.
  const auto attention = accumulatedAttention(reader.attention(3), reader.info().kvHeads);
  MergeThresholds t;
  t.eps = 0.8;
  const double expected =
      layerCompressionRatio(reader.states(StateSource::kKeys, 3).narrow(1, 0, P), attention, t);
  EXPECT_NEAR(std::stod(readCsv(dir.file("ratios.csv"))[4][1]), expected, 1e-5);
  EXPECT_EQ(readCsv(dir.file("adj.csv")).size(), size_t(P));  // header + P-1 pairs
}

TEST(AnalyzeCli, BatchSpreadOverRecordings) {
  TempDir dir;
  const std::string a = recordPrompt(dir, "a", 0), b = recordPrompt(dir, "b", 1);
  const CliRun r = runCliCommand("analyze --batch " + a + " " + b);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream rows(r.out);
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line.rfind("layer,mean,std,min,max,", 0), 0u) << line;
  int layers = 0;
  while (std::getline(rows, line)) {
    std::vector<double> v;
    std::istringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) v.push_back(std::stod(cell));
    ASSERT_EQ(v.size(), 7u);
    EXPECT_NEAR(v[1], (v[5] + v[6]) / 2, 1e-5);
    EXPECT_NEAR(v[2], std::abs(v[5] - v[6]) / 2, 1e-5);
    EXPECT_NEAR(v[3], std::min(v[5], v[6]), 1e-6);
    ++layers;
  }
  EXPECT_EQ(layers, 5);
}

TEST(AnalyzeCli, BadInputsAreNamed) {
  TempDir dir;
  const std::string file = recordPrompt(dir, "a", 2);
  { std::ofstream(dir.file("text.h5")) << "hello"; }
  const struct {
    std::string args, message;
  } cases[] = {
      {dir.file("text.h5"), "is not an HDF5 file"},
      {dir.file("missing.h5"), "does not exist"},
      {file + " --layer 9 --sets " + dir.file("s.csv"), "layers 0-4"},
      {file + " --source values", "--record-values"},
      {file + " --head 7 --sets " + dir.file("s.csv"), "this model has 4"},
      {file + " --sets /proc/nope/s.csv", "cannot write the CSV file /proc/nope/s.csv"},
      {"--batch", "--model M --prompts-file P"},
  };
  for (const auto& c : cases) {
    const CliRun r = runCliCommand("analyze " + c.args);
    EXPECT_EQ(r.exitCode, 2) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace kvs::test
