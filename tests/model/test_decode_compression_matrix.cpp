// Compression while decoding runs to the end for every method (and the baselines as their
// authors run them), budget, chunk and prompt length, however few tokens the prompt has (5 tokens
// at 50% used to stop KVMerger after one step): a budget smaller than the recent + protected
// tokens plus the runs between them makes KVMerger release protection instead of stopping.

#include <gtest/gtest.h>

#include <tuple>

#include "session/variant.h"
#include "stories_fixture.h"

namespace kvs::test {
namespace {

// BOS, then tokens of stories260K's own greedy stories (the model's vocabulary, real text).
std::vector<int> promptOf(const Tokenizer& t, int tokens) {
  std::vector<int> story = readIds(goldenPath("greedy_once_upon_a_time_n200.tokens.txt"));
  const std::vector<int> more = readIds(goldenPath("greedy_the_little_dog_n200.tokens.txt"));
  story.insert(story.end(), more.begin(), more.end());
  std::vector<int> ids = {t.bosId()};
  for (int id : story) {
    if (static_cast<int>(ids.size()) == tokens) break;
    if (id != t.bosId() && id != t.eosId()) ids.push_back(id);
  }
  return ids;
}

// The methods, and the baselines as their authors run them.
enum class Setting { kStreaming, kStreamingCachePositions, kH2O, kCaM, kCaMAuthors, kKVMerger };

CompressionParams paramsOf(Setting s) {
  const std::string methods[] = {"streaming", "streaming", "h2o", "cam", "cam", "kvmerger"};
  CompressionParams p;
  p.method = methods[static_cast<int>(s)];
  if (s == Setting::kStreamingCachePositions) p.positions = StreamingPositions::kCache;
  if (s == Setting::kCaMAuthors) p.camBase = CamBase::kStreaming;
  return p;
}

using Case = std::tuple<Setting, double, int, int>;  // setting, budget, decode chunk, prompt tokens

std::string caseName(const Case& c) {
  const char* names[] = {"streaming", "streaming_cache", "h2o", "cam", "cam_authors", "kvmerger"};
  const auto [setting, budget, chunk, tokens] = c;
  return std::string(names[static_cast<int>(setting)]) + "_" + std::to_string(int(budget * 100)) +
         "pct_chunk" + std::to_string(chunk) + "_" + std::to_string(tokens) + "tokens";
}

class DecodeCompressionMatrix : public Stories, public ::testing::WithParamInterface<Case> {};

TEST_P(DecodeCompressionMatrix, RunsToTheEndWithinTheBudget) {
  const auto [setting, budget, chunk, tokens] = GetParam();
  GenerationRequest request;
  request.promptIds = promptOf(tokenizer(), tokens);
  ASSERT_EQ(static_cast<int>(request.promptIds.size()), tokens);
  request.steps = tokens + 100;
  request.sampling.temperature = 0.0f;  // no stop ids: every one of the 100 steps runs
  CompressionParams p = paramsOf(setting);
  p.budget = budget;
  p.decodeCompression = true;
  p.decodeChunk = chunk;
  DecodeResult r;
  ASSERT_NO_THROW(r = runVariant(model(), request, p));
  EXPECT_EQ(r.generatedIds.size(), 101u);
  int target = 0;
  for (const auto& layer : r.compression.slots) {
    for (int s : layer) target = std::max(target, s);
  }
  for (const auto& layer : r.cells.slots) {
    for (const auto& head : layer) EXPECT_LE(static_cast<int>(head.size()), target + chunk);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllMethods, DecodeCompressionMatrix,
    ::testing::Combine(::testing::Values(Setting::kStreaming, Setting::kStreamingCachePositions,
                                         Setting::kH2O, Setting::kCaM, Setting::kKVMerger),
                       ::testing::Values(0.35, 0.5), ::testing::Values(1, 8),
                       ::testing::Values(1, 2, 4, 5, 8, 20, 300)),
    [](const auto& info) { return caseName(info.param); });

// The authors' CaM evicts one token per step: chunk 1 only.
INSTANTIATE_TEST_SUITE_P(AuthorsCaM, DecodeCompressionMatrix,
                         ::testing::Combine(::testing::Values(Setting::kCaMAuthors),
                                            ::testing::Values(0.35, 0.5), ::testing::Values(1),
                                            ::testing::Values(1, 2, 4, 5, 8, 20, 300)),
                         [](const auto& info) { return caseName(info.param); });

}  // namespace
}  // namespace kvs::test
