// Odd parameters kvstudio-cli used to accept in silence (found by fuzzing): each is now a one-line
// error with exit 2 naming the flag and its valid range, or a documented result. Damaged
// tokenizer files through the commands, and errors that follow compare's progress bar.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "sentencepiece_mutants.h"

namespace kvs::test {
namespace {

const std::string kModel = "--model " + modelPath("stories260K.bin");
const std::string kGenerate = "generate " + kModel + " --prompt 'Once upon a time' --steps 12 ";

// Exit 2, `needle` in the error, and the error alone on its last line of stderr.
void expectCleanError(const CliRun& r, const std::string& needle) {
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
  const size_t at = r.err.rfind("kvstudio-cli: error:");
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_TRUE(at == 0 || r.err[at - 1] == '\n') << "the error starts a line: " << r.err;
  EXPECT_EQ(r.err.find('\n', at), r.err.size() - 1) << "one line: " << r.err;
}

TEST(HostileParams, NegativeFractionsAreRefusedNotTakenAsThePaperDefault) {
  for (const std::string bad :
       {"--recent -1", "--protected -0.5", "--recent 1.5", "--recent nan"}) {
    const std::string flag = bad.substr(0, bad.find(' '));
    const std::string value = bad.substr(bad.find(' ') + 1);
    expectCleanError(runCliCommand(kGenerate + "--method h2o " + bad),
                     flag + ": must be in [0, 1], got '" + value + "'");
  }
  expectCleanError(runCliCommand("compare " + kModel + " --prompt hi --protected -0.5"),
                   "--protected: must be in [0, 1]");
}

TEST(HostileParams, SeedsOutsideTheirRangeAreRefused) {
  const std::string range = "must be a whole number in [0, 18446744073709551615]";
  // -1 became 18446744073709551615 and 18446744073709551616 became 0 (or 2^63 - 1).
  expectCleanError(runCliCommand(kGenerate + "--method cam --cam-seed -1"),
                   "--cam-seed: " + range + ", got '-1'");
  expectCleanError(runCliCommand(kGenerate + "--seed 18446744073709551616"),
                   "--seed: " + range + ", got '18446744073709551616'");
  expectCleanError(runCliCommand(kGenerate + "--seed -1"), "--seed: " + range);
  expectCleanError(runCliCommand(kGenerate + "--method cam --cam-seed 1e3"),
                   "--cam-seed: " + range);
}

TEST(HostileParams, TheLargestSeedsAreKeptExactly) {
  const CliRun r = runCliCommand(kGenerate +
                                 "--seed 18446744073709551615 --method cam "
                                 "--cam-seed 18446744073709551615 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("seed").get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(j.at("compression").at("seed").get<uint64_t>(), std::numeric_limits<uint64_t>::max());
}

TEST(HostileParams, EmptyPathsAreNamed) {
  // An empty --tokenizer meant "find one next to the model", in silence.
  expectCleanError(runCliCommand(kGenerate + "--tokenizer ''"),
                   "--tokenizer: the path is empty; name a file");
  expectCleanError(runCliCommand("compare " + kModel + " --prompt hi --tokenizer ''"),
                   "--tokenizer: the path is empty");
  expectCleanError(runCliCommand("tokenize --tokenizer '' --text hi"),
                   "--tokenizer: the path is empty");
  expectCleanError(runCliCommand("generate --model '' --prompt hi"), "--model: the path is empty");
  expectCleanError(runCliCommand("info --model ''"), "--model: the path is empty");
}

TEST(HostileParams, ABudgetOfAtLeastThePromptSaysNothingIsCompressed) {
  const CliRun r =
      runCliCommand(kGenerate + "--temperature 0 --method h2o --budget-tokens 100000 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string note =
      "--budget-tokens 100000 is not below the prompt's 5 tokens: the prompt's cache is kept "
      "whole, nothing is compressed";
  EXPECT_NE(r.err.find("note: " + note), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("notes").size(), 1u);
  EXPECT_EQ(j.at("notes")[0].get<std::string>(), note);
  EXPECT_DOUBLE_EQ(j.at("achieved_ratio").get<double>(), 1.0);

  const CliRun small =
      runCliCommand(kGenerate + "--temperature 0 --method h2o --budget-tokens 3 --json");
  ASSERT_EQ(small.exitCode, 0) << small.err;
  EXPECT_TRUE(nlohmann::json::parse(small.out).at("notes").empty());
  EXPECT_EQ(small.err.find("note: --budget-tokens"), std::string::npos) << small.err;
}

TEST(HostileParams, DecodeChunksFromTheContextUpAreRefusedUpFront) {
  // 2147483647 overflowed the cache's capacity: "internal error: slot count beyond the capacity".
  for (const std::string chunk : {"2147483647", "512"}) {
    expectCleanError(
        runCliCommand(kGenerate + "--method h2o --decode-compression --decode-chunk " + chunk),
        "--decode-chunk " + chunk +
            " is not below the model's context of 512 positions; give a chunk from 1 to 511");
  }
  expectCleanError(runCliCommand("compare " + kModel +
                                 " --prompt hi --methods h2o --decode-compression "
                                 "--decode-chunk 2147483647"),
                   "--decode-chunk 2147483647 is not below the model's context");
  const CliRun ok =
      runCliCommand(kGenerate + "--method h2o --decode-compression --decode-chunk 511 --json");
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

TEST(HostileParams, AnErrorAfterCompareStartedItsProgressBarStartsOnANewLine) {
  // The first prompt runs (the bar is drawn, not finished), the second is beyond the context.
  TempDir dir;
  std::string tooLong;
  for (int i = 0; i < 300; ++i) tooLong += "the dog ";
  writeFile(dir.file("prompts.txt"), "Once upon a time\n" + tooLong + "\n");
  const CliRun r =
      runCliCommand("compare " + kModel + " --prompts-file " + dir.file("prompts.txt") +
                    " --methods h2o --budgets 0.5 --new-tokens 2");
  expectCleanError(r, "prompt 2 is");
  EXPECT_NE(r.err.find("1/2 variants\nkvstudio-cli: error: prompt 2 is"), std::string::npos)
      << r.err;
}

TEST(HostileParams, DamagedTokenizersAreRefusedByEveryCommand) {
  TempDir dir;
  writeFile(dir.file("bos.model"), spm::withPieceType(1, spm::kNormal));
  writeFile(dir.file("trie.model"), spm::withCharsmap(spm::charsmapOfRandomTrie(1)));
  // Both were a segfault (exit 139).
  expectCleanError(runCliCommand("tokenize --tokenizer " + dir.file("bos.model") + " --text hi"),
                   "BOS piece 1 ('<s>') has type NORMAL, not CONTROL");
  expectCleanError(runCliCommand("tokenize --tokenizer " + dir.file("trie.model") + " --text hi"),
                   "damaged SentencePiece tokenizer model " + dir.file("trie.model"));
  expectCleanError(runCliCommand(kGenerate + "--tokenizer " + dir.file("trie.model")),
                   "precompiled_charsmap");
  expectCleanError(
      runCliCommand("compare " + kModel + " --prompt hi --tokenizer " + dir.file("bos.model")),
      "BOS piece 1");
}

}  // namespace
}  // namespace kvs::test
