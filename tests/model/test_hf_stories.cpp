// stories260K exported as a Hugging Face folder loads to the same model as the llama2.c .bin:
// logits within 1e-5 and the same greedy tokens as llama2.c, single file and sharded.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "cache/kv_cache.h"
#include "model/hf_checkpoint.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "model/model_loader.h"
#include "session/variant.h"
#include "stories_fixture.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class HfStoriesLoading : public Stories {};

class HfStories : public Stories, public ::testing::WithParamInterface<int64_t> {};

TEST_P(HfStories, SameLogitsAndGreedyTokensAsTheBin) {
  TempDir dir;
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  HfExportOptions options;
  options.maxShardBytes = GetParam();
  options.tokenizerPath = modelPath("tok512.model");
  const std::string folder = dir.file("stories260K-hf");
  writeHfCheckpoint(folder, bin.config, bin.weights, options);
  const auto hf = loadModel(folder, LoadOptions{});
  EXPECT_EQ(hf->config().ropeStyle, RopeStyle::kHalfSplit);
  if (GetParam() > 0) EXPECT_GT(HfCheckpoint::open(folder).shardCount(), 1);

  const std::vector<int> prompt = tokenizer().encode("Once upon a time");
  KvCache a = model().makeCache(), b = hf->makeCache();
  const at::Tensor expected = model().forward(prompt, a, LogitsMode::kAll);
  const at::Tensor actual = hf->forward(prompt, b, LogitsMode::kAll);
  EXPECT_LT((expected - actual).abs().max().item<float>(), 1e-5);

  GenerationRequest request;
  request.promptIds = prompt;
  request.steps = 64;
  request.sampling.temperature = 0.0f;
  request.stopIds = {tokenizer().bosId(), tokenizer().eosId()};
  std::vector<int> all = prompt;
  const DecodeResult result = generate(*hf, request);
  all.insert(all.end(), result.generatedIds.begin(), result.generatedIds.end());
  EXPECT_EQ(all, readIds(goldenPath("greedy_once_upon_a_time_n64.tokens.txt")));

  // The folder's own tokenizer.model is found without --tokenizer.
  EXPECT_EQ(locateTokenizer(folder, "", hf->config().vocabSize).path(),
            folder + "/tokenizer.model");
}

// Loading reports each layer and stops between layers when asked, for both formats.
TEST_F(HfStoriesLoading, LoadingReportsLayersAndStops) {
  TempDir dir;
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  const std::string folder = dir.file("stories260K-hf");
  writeHfCheckpoint(folder, bin.config, bin.weights, HfExportOptions{});
  for (const std::string& path : {modelPath("stories260K.bin"), folder}) {
    std::vector<std::pair<int, int>> seen;
    LoadOptions options;
    options.progress = [&](int done, int total) {
      seen.emplace_back(done, total);
      return true;
    };
    const auto model = loadModel(path, options);
    ASSERT_EQ(seen.size(), static_cast<size_t>(bin.config.nLayers)) << path;
    EXPECT_EQ(seen.back(), std::make_pair(bin.config.nLayers, bin.config.nLayers));

    int calls = 0;
    options.progress = [&](int done, int) {
      ++calls;
      return done < 2;  // stop after the second layer
    };
    try {
      loadModel(path, options);
      ADD_FAILURE() << path << " loaded although stopped";
    } catch (const KvsError& e) {
      EXPECT_NE(std::string(e.what()).find("loading was stopped"), std::string::npos) << e.what();
    }
    EXPECT_EQ(calls, 2) << path;
  }
}

// 0: one model.safetensors; 300 KB: shards (the model is 1 MB in float32).
INSTANTIATE_TEST_SUITE_P(Layouts, HfStories, ::testing::Values(int64_t{0}, int64_t{300000}),
                         [](const auto& info) {
                           return info.param == 0 ? std::string("Single") : std::string("Sharded");
                         });

}  // namespace
}  // namespace kvs::test
