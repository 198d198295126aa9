// kvstudio-cli's compression options as a user runs them: the authors' baselines and decode
// compression on prompts too short for the paper's protected fractions.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace kvs::test {
namespace {

const std::string kModel = "--model " + modelPath("stories260K.bin");

TEST(CliCompression, CaMAsItsAuthorsShipItIsRecordedInTheParameters) {
  const CliRun r =
      runCliCommand("generate " + kModel +
                    " --prompt 'Once upon a time, there was a little girl named Lily.' "
                    "--temperature 0 --steps 60 --method cam --cam-base streaming --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto c = nlohmann::json::parse(r.out).at("compression");
  EXPECT_EQ(c.at("cam_base").get<std::string>(), "streaming");
  EXPECT_EQ(c.at("cam_window").get<int>(), 16);  // the authors' streaming code's merge_num
  EXPECT_TRUE(c.at("decode_compression").get<bool>());
}

TEST(CliCompression, KVMergerWithDecodeCompressionRunsToTheEndOnAShortPrompt) {
  // 5 tokens at 50%: 3 slots, 1 recent and 1 protected token with runs around them used to need
  // 4 and stopped the generation after "Once upon a time,".
  const CliRun r = runCliCommand("generate " + kModel +
                                 " --prompt 'Once upon a time' --temperature 0 --steps 80 --method "
                                 "kvmerger --budget 0.5 --decode-compression --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("stop_reason").get<std::string>() == "steps" ||
                j.at("stop_reason").get<std::string>() == "stop_token",
            true);
  EXPECT_GT(j.at("generated_token_ids").size(), 20u);
}

}  // namespace
}  // namespace kvs::test
