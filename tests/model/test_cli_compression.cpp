// kvstudio-cli's compression options as a user runs them: the authors' baselines and decode
// compression on prompts too short for the paper's protected fractions.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

TEST(CliCompression, SnapKVRunsThroughTheRegistryWithItsOwnFlags) {
  const CliRun r = runCliCommand(
      "generate " + kModel +
      " --prompt 'Once upon a time, there was a little girl named Lily. She loved to play "
      "outside in the sun.' --temperature 0 --steps 60 --method snapkv --budget 0.5 "
      "--snapkv-window 8 --snapkv-pooling max --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto c = j.at("compression");
  EXPECT_EQ(c.at("method").get<std::string>(), "snapkv");
  EXPECT_EQ(c.at("snapkv_window").get<int>(), 8);
  EXPECT_EQ(c.at("snapkv_kernel").get<int>(), 5);  // the default, recorded
  EXPECT_EQ(c.at("snapkv_pooling").get<std::string>(), "max");
  EXPECT_FALSE(c.contains("eps"));  // only the parameters it reads are recorded
  EXPECT_LT(j.at("kv_bytes").get<double>(), 0.6 * j.at("kv_bytes_full").get<double>());
}

TEST(CliCompression, AFlagNoChosenMethodReadsIsRefusedWithTheReason) {
  const std::string base = "generate " + kModel + " --prompt hi ";
  const std::pair<std::string, std::string> cases[] = {
      {"--method h2o --snapkv-window 8", "--snapkv-window applies to snapkv only"},
      {"--method streaming --gqa-reduction max",
       "--gqa-reduction applies to h2o, cam, kvmerger and snapkv only"},
      {"--method h2o --decode-chunk 4",
       "--decode-chunk has no effect without compression while decoding"},
      {"--method h2o --budget 0.3 --budget-tokens 20",
       "--budget has no effect with --budget-tokens"},
      {"--method cam --sink-tokens 2", "--sink-tokens has no effect with --cam-base h2o"},
      {"--method kvmerger --approximate-budget --sigma-mode literal --sigma 3",
       "--sigma has no effect with --sigma-mode literal"},
      {"--method snapkv --snapkv-kernel 4", "--snapkv-kernel must be odd"},
      {"--method snapkv --decode-compression", "SnapKV compresses the prompt once"}};
  for (const auto& [flags, message] : cases) {
    const CliRun r = runCliCommand(base + flags);
    EXPECT_EQ(r.exitCode, 2) << flags << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << flags << ": " << r.err;
  }
  // compare: a flag is fine when one of the methods compared reads it.
  const CliRun ok = runCliCommand("compare " + kModel +
                                  " --prompt 'Once upon a time' --methods h2o,snapkv "
                                  "--budgets 0.5 --new-tokens 2 --snapkv-window 2 --json");
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

TEST(CliCompression, TheReadmeMethodTableIsTheRegistrys) {
  std::ifstream in(std::string(KVS_SOURCE_DIR) + "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  const std::string text = readme.str();
  const std::string begin = "<!-- methods table: kvstudio-cli methods --markdown -->\n";
  const size_t from = text.find(begin), to = text.find("<!-- end of methods table -->");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const CliRun r = runCliCommand("methods --markdown");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(text.substr(from + begin.size(), to - from - begin.size()), r.out)
      << "README.md's method table is stale: paste `kvstudio-cli methods --markdown` into it";
}

}  // namespace
}  // namespace kvs::test
