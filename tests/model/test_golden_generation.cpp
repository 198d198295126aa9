// stories260K greedy generations equal llama2.c's, token for token and byte for byte.

#include <gtest/gtest.h>

#include "session/variant.h"
#include "stories_fixture.h"
#include "tokenizer/token_stream_decoder.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class Generation : public Stories {};

struct GoldenCase {
  std::string name;    // file stem in tests/golden
  std::string prompt;  // empty: BOS only
  int steps;
};

class GoldenGeneration : public Stories, public ::testing::WithParamInterface<GoldenCase> {};

TEST_P(GoldenGeneration, MatchesLlama2c) {
  const GoldenCase& g = GetParam();
  GenerationRequest request;
  request.promptIds = g.prompt.empty() ? std::vector<int>{1} : tokenizer().encode(g.prompt);
  request.steps = g.steps;
  request.sampling.temperature = 0.0f;
  request.stopIds = {tokenizer().bosId(), tokenizer().eosId()};
  const DecodeResult result = generate(model(), request);

  std::vector<int> all = request.promptIds;
  all.insert(all.end(), result.generatedIds.begin(), result.generatedIds.end());
  // llama2.c's token files exist for the prompted cases; the no-prompt case is checked by text.
  const std::string tokensFile = goldenPath(g.name + ".tokens.txt");
  ASSERT_EQ(std::filesystem::exists(tokensFile), !g.prompt.empty()) << tokensFile;
  if (!g.prompt.empty()) EXPECT_EQ(all, readIds(tokensFile));
  EXPECT_EQ(static_cast<int>(all.size()), g.steps + 1);
  EXPECT_EQ(result.stopReason, StopReason::kSteps);

  // The text llama2.c printed: tokens 1..N decoded, then a newline.
  const std::vector<int> printed(all.begin() + 1, all.end());
  EXPECT_EQ(decodeStream(tokenizer(), printed, true) + "\n", readFile(goldenPath(g.name + ".txt")));
}

INSTANTIATE_TEST_SUITE_P(
    Stories260K, GoldenGeneration,
    ::testing::Values(GoldenCase{"greedy_once_upon_a_time_n64", "Once upon a time", 64},
                      GoldenCase{"greedy_once_upon_a_time_n200", "Once upon a time", 200},
                      GoldenCase{"greedy_the_little_dog_n64", "The little dog", 64},
                      GoldenCase{"greedy_the_little_dog_n200", "The little dog", 200},
                      GoldenCase{"greedy_noprompt_n200", "", 200}),
    [](const auto& info) { return info.param.name; });

TEST_F(Generation, GenerationStopsWhenTheCallbackSaysSo) {
  GenerationRequest request;
  request.promptIds = tokenizer().encode("Once upon a time");
  request.steps = 100;
  request.sampling.temperature = 0.0f;
  int seen = 0;
  const auto result = generate(model(), request, {[&](int) { return ++seen < 3; }});
  EXPECT_EQ(result.stopReason, StopReason::kCancelled);
  EXPECT_EQ(result.generatedIds.size(), 3u);
}

TEST_F(Generation, SampledGenerationIsReproducibleWithASeed) {
  GenerationRequest request;
  request.promptIds = tokenizer().encode("The little dog");
  request.steps = 60;
  request.sampling = {1.0f, 0.9f, 1234};
  const auto a = generate(model(), request).generatedIds;
  const auto b = generate(model(), request).generatedIds;
  request.sampling.seed = 99;
  const auto c = generate(model(), request).generatedIds;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace kvs::test
