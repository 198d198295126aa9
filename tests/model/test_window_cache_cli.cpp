// --window-cache on the command line (issue 17): stories260K's weights as a Mistral folder with
// a window of 16, so that `info` and `generate` report the window and a greedy run with the
// trim gives the tokens of the run that keeps every slot, in less memory; the flag is refused
// for a model without a window.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "test_util.h"

namespace kvs::test {
namespace {

constexpr int kWindow = 16;

std::string mistralFolder(const TempDir& dir) {
  Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  bin.config.family = ModelFamily::kMistral;
  bin.config.slidingWindow = kWindow;
  HfExportOptions options;
  options.tokenizerPath = modelPath("tok512.model");
  const std::string folder = dir.file("mistral-stories");
  writeHfCheckpoint(folder, bin.config, bin.weights, options);
  return folder;
}

TEST(WindowCacheCli, InfoAndGenerateReportTheWindowAndTrimChangesNoToken) {
  TempDir dir;
  const std::string folder = mistralFolder(dir);
  const CliRun info = runCliCommand("info --model " + folder);
  ASSERT_EQ(info.exitCode, 0) << info.err;
  EXPECT_NE(info.out.find("sliding window:   16 positions; the cache keeps only the window "
                          "(--window-cache trim): at most 16 slots per head"),
            std::string::npos)
      << info.out;
  const CliRun infoKeep = runCliCommand("info --json --window-cache keep --model " + folder);
  ASSERT_EQ(infoKeep.exitCode, 0) << infoKeep.err;
  EXPECT_EQ(nlohmann::json::parse(infoKeep.out).at("window_cache").at("mode"), "keep");

  const std::string run = "generate --model " + folder +
                          " --prompt 'Once upon a time' --steps 96 --temperature 0 --json";
  const CliRun trim = runCliCommand(run);
  const CliRun keep = runCliCommand(run + " --window-cache keep");
  ASSERT_EQ(trim.exitCode, 0) << trim.err;
  ASSERT_EQ(keep.exitCode, 0) << keep.err;
  const auto t = nlohmann::json::parse(trim.out), k = nlohmann::json::parse(keep.out);
  EXPECT_EQ(t.at("generated_token_ids"), k.at("generated_token_ids"));
  const auto& w = t.at("window_cache");
  EXPECT_EQ(w.at("window"), kWindow);
  EXPECT_EQ(w.at("mode"), "trim");
  EXPECT_LE(w.at("max_head_slots").get<int>(), kWindow);
  // 96 positions in the cache at the end (--steps), 15 of them seen by a next query: 81
  // dropped from each of 5 layers x 4 KV heads, each a key and a value of 8 floats.
  EXPECT_EQ(w.at("dropped_slots"), 81 * 5 * 4);
  EXPECT_EQ(w.at("dropped_bytes"), 81 * 5 * 4 * 2 * 8 * 4);
  EXPECT_EQ(k.at("window_cache").at("mode"), "keep");
  EXPECT_EQ(k.at("window_cache").at("dropped_slots"), 0);
  EXPECT_LT(t.at("kv_bytes_final").get<int64_t>(), k.at("kv_bytes_final").get<int64_t>());

  const CliRun text = runCliCommand("generate --model " + folder +
                                    " --prompt 'Once upon a time' --steps 96 --temperature 0");
  ASSERT_EQ(text.exitCode, 0) << text.err;
  EXPECT_NE(text.err.find("sliding window 16 (trim): 1620 slots dropped (103680 bytes)"),
            std::string::npos)
      << text.err;
}

TEST(WindowCacheCli, RefusedForAModelWithoutAWindow) {
  for (const std::string command :
       {"info", "generate --prompt 'Once upon a time' --steps 8 --temperature 0"}) {
    const CliRun r =
        runCliCommand(command + " --window-cache keep --model " + modelPath("stories260K.bin"));
    EXPECT_NE(r.exitCode, 0) << command;
    EXPECT_NE(r.err.find("--window-cache keep has no effect"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("has no sliding window"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace kvs::test
