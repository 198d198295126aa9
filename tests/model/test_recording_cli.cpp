// Recording through kvstudio-cli on stories260K: the recorded keys are llama2.c's, the file agrees
// with the printed JSON, and file problems never cost the user the generation.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

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

// An unwritable path and a disk without room for the recording: a clear error, exit code 1, and
// the generated text printed in full all the same. (A disk filling up mid-run is tested in
// kvs_io_tests, DiskFullMidRunStopsCleanly.)
TEST(RecordingCli, WriteFailuresKeepTheGeneration) {
  const std::string expected = readFile(goldenPath("greedy_once_upon_a_time_n200.txt"));
  const CliRun unwritable =
      runCliCommand("generate " + kModel + kGreedy + " --steps 200 --record /proc/no/such.h5");
  EXPECT_EQ(unwritable.exitCode, 1);
  EXPECT_EQ(unwritable.out, expected);
  EXPECT_NE(unwritable.err.find("nothing was recorded"), std::string::npos) << unwritable.err;

  TempDir dir;
  const std::string file = dir.file("full.h5");
  // A 64 KiB file-size limit stands in for a nearly full disk (SIGXFSZ ignored: EFBIG).
  const CliRun full = runCliCommand(
      "generate " + kModel + kGreedy + " --steps 200 --record " + file + " --record-values",
      "ulimit -f 64; trap '' XFSZ;");
  EXPECT_EQ(full.exitCode, 1);
  EXPECT_EQ(full.out, expected);
  EXPECT_NE(full.err.find("not enough disk space to record"), std::string::npos) << full.err;
  EXPECT_FALSE(std::filesystem::exists(file)) << "an empty recording was left behind";
}

}  // namespace
}  // namespace kvs::test
