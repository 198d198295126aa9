// Llama 3.x, Mistral, Qwen2 and Qwen3 folders written by the exporter run through LlamaModel and
// through a plain-loop reference of transformers' forward (naive_hf_reference.h): logits within
// 1e-5 in float32, in one prefill and token by token, past Mistral's window; keys in the cache
// as the reference has them after q/k norm and RoPE. Each test also shows that the reference
// without the family's difference disagrees, so the agreement is not vacuous.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_params.h"
#include "family_fixture.h"
#include "model/cli_runner.h"
#include "model/cpu_decode_step.h"
#include "model/model_loader.h"
#include "model/sliding_window.h"
#include "naive_hf_reference.h"
#include "session/decode.h"
#include "session/prefill_from_recording.h"
#include "test_util.h"

namespace kvs {
namespace {

using test::TempDir;
using test::TinyFamily;

constexpr double kTolerance = 1e-5;
constexpr int kTokens = 14;  // well past Mistral's window of 5

std::vector<int> someTokens(int vocab) {
  std::vector<int> ids;
  for (int i = 0; i < kTokens; ++i) ids.push_back((i * 7 + 3) % vocab);
  return ids;
}

// max |model - reference| over rows [n, V] of logits.
double maxDiff(const at::Tensor& logits, const std::vector<std::vector<double>>& ref,
               int firstRow = 0) {
  const at::Tensor l = logits.to(at::kDouble).contiguous().view({-1, logits.size(-1)});
  double worst = 0;
  for (int64_t r = 0; r < l.size(0); ++r) {
    for (int64_t v = 0; v < l.size(1); ++v) {
      worst = std::max(worst, std::abs(l[r][v].item<double>() - ref[firstRow + r][v]));
    }
  }
  return worst;
}

struct Measured {
  double prefill = 0, decode = 0, keys = 0, dropped = 0;
};

// Loads the folder, runs the tokens in one prefill and (in a second cache) 3 then one at a time,
// and compares both with the reference; `drops` names what the family changes, for the
// counter-check.
Measured measure(const std::string& folder, const test::ReferenceDrops& drops) {
  const auto model = loadModel(folder);
  const std::vector<int> ids = someTokens(model->config().vocabSize);
  const test::ReferenceResult ref = test::referenceForward(folder, ids);
  Measured m;

  KvCache cache = model->makeCache();
  const at::Tensor all = model->forward(ids, cache, LogitsMode::kAll);  // [n, V]
  m.prefill = maxDiff(all, ref.logits);

  KvCache stepwise = model->makeCache();
  const std::vector<int> head(ids.begin(), ids.begin() + 3);
  m.decode = maxDiff(model->forward(head, stepwise, LogitsMode::kAll), ref.logits);
  // The one-token forwards run model/cpu_decode_step.h's loops, not the layer of tensor ops.
  const int64_t stepsBefore = cpuDecodeStepCount();
  for (int i = 3; i < kTokens; ++i) {
    m.decode = std::max(m.decode, maxDiff(model->forward({ids[i]}, stepwise), ref.logits, i));
  }
  EXPECT_EQ(cpuDecodeStepCount() - stepsBefore, kTokens - 3);

  // Keys as the cache holds them: [Hkv, T, D] against the reference's [T][Hkv * D].
  const ModelConfig& c = model->config();
  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor k = cache.keys(l).to(at::kDouble).contiguous();
    for (int t = 0; t < kTokens; ++t) {
      for (int h = 0; h < c.nKvHeads; ++h) {
        for (int d = 0; d < c.headDim(); ++d) {
          m.keys = std::max(
              m.keys, std::abs(k[h][t][d].item<double>() - ref.keys[l][t][h * c.headDim() + d]));
        }
      }
    }
  }
  m.dropped = maxDiff(all, test::referenceForward(folder, ids, drops).logits);
  std::cout << folder << ": max |logit - reference| prefill " << m.prefill << ", decode "
            << m.decode << ", keys " << m.keys << "; without the family's difference " << m.dropped
            << "\n";
  return m;
}

void expectAgreement(const Measured& m) {
  EXPECT_LT(m.prefill, kTolerance);
  EXPECT_LT(m.decode, kTolerance);
  EXPECT_LT(m.keys, kTolerance);
  EXPECT_GT(m.dropped, 1e-3) << "the reference without the family's difference agrees too: the "
                                "test would not notice that difference missing";
}

TEST(ModelFamilies, Llama3WithRopeScalingMatchesTheReference) {
  TempDir dir;
  const ModelConfig c = test::writeTinyFamily(dir.file("llama3"), TinyFamily::kLlama3);
  EXPECT_EQ(loadModel(dir.file("llama3"))->config().ropeScaling.factor, 8.0f);
  test::ReferenceDrops drops;
  drops.ropeScaling = true;
  expectAgreement(measure(dir.file("llama3"), drops));
  (void)c;
}

TEST(ModelFamilies, Llama32TiedEmbeddingsMatchTheReference) {
  TempDir dir;
  test::writeTinyFamily(dir.file("llama32"), TinyFamily::kLlama32Tied);
  EXPECT_TRUE(loadModel(dir.file("llama32"))->config().sharedClassifier);
  test::ReferenceDrops drops;
  drops.ropeScaling = true;
  expectAgreement(measure(dir.file("llama32"), drops));
}

TEST(ModelFamilies, MistralSlidingWindowMatchesTheReference) {
  TempDir dir;
  test::writeTinyFamily(dir.file("mistral"), TinyFamily::kMistral);
  EXPECT_EQ(loadModel(dir.file("mistral"))->config().slidingWindow, 5);
  test::ReferenceDrops drops;
  drops.slidingWindow = true;
  expectAgreement(measure(dir.file("mistral"), drops));
}

TEST(ModelFamilies, Qwen2BiasesMatchTheReference) {
  TempDir dir;
  test::writeTinyFamily(dir.file("qwen2"), TinyFamily::kQwen2);
  test::ReferenceDrops drops;
  drops.qkvBias = true;
  expectAgreement(measure(dir.file("qwen2"), drops));
}

TEST(ModelFamilies, Qwen3QkNormAndHeadDimMatchTheReference) {
  TempDir dir;
  test::writeTinyFamily(dir.file("qwen3"), TinyFamily::kQwen3);
  EXPECT_EQ(loadModel(dir.file("qwen3"))->config().headDim(), 16);
  test::ReferenceDrops drops;
  drops.qkNorm = true;
  expectAgreement(measure(dir.file("qwen3"), drops));
}

// The window over a compressed cache: query 8 with W = 3 sees positions 6, 7, 8; a merged slot
// stays while its newest member is among them, and heads with different cells get their rows.
TEST(ModelFamilies, SlidingWindowMaskFollowsTheCellsOfACompressedCache) {
  ModelConfig c = test::tinyFamilyConfig(TinyFamily::kMistral);
  c.slidingWindow = 3;
  KvCache cache(c);
  const int D = c.headDim();
  cache.beginAppend(8);
  for (int l = 0; l < c.nLayers; ++l) cache.write(l, at::randn({8, 2, D}), at::randn({8, 2, D}));
  cache.commit();
  const at::Tensor k = at::randn({2, 4, D}), v = at::randn({2, 4, D});
  LayerCells cells{{{Slot{0, 3, 1, 4, 0}, Slot{4, 5, 5, 2, 0}, Slot::token(6), Slot::token(7)},
                    {Slot{0, 6, 3, 7, 0}, Slot::token(7)}},
                   {}};
  cache.replaceLayer(0, k, v, cells);
  cache.beginAppend(1);  // the token at position 8
  for (int l = 0; l < c.nLayers; ++l) cache.write(l, at::randn({1, 2, D}), at::randn({1, 2, D}));
  const at::Tensor mask = slidingWindowMask(cache, 0, 3, 2, at::kFloat);  // [Hkv, G, 5]
  ASSERT_TRUE(mask.defined());
  ASSERT_EQ(mask.sizes(), at::IntArrayRef({2, 2, 5}));
  const float inf = INFINITY;
  // head 0: [0..3] and [4..5] hidden, 6, 7 and the new token seen; head 1: [0..6] (newest 6)
  // seen, 7 and the new token seen, the fifth column is padding (left to the cache's mask).
  const at::Tensor expected0 = at::tensor({-inf, -inf, 0.0f, 0.0f, 0.0f});
  const at::Tensor expected1 = at::tensor({0.0f, 0.0f, 0.0f, 0.0f, 0.0f});
  for (int g = 0; g < 2; ++g) {
    EXPECT_TRUE(at::equal(mask[0][g], expected0)) << mask;
    EXPECT_TRUE(at::equal(mask[1][g], expected1)) << mask;
  }
  // Layer 1 is uncompressed: one shared row hiding positions 0..5.
  const at::Tensor plain = slidingWindowMask(cache, 1, 3, 2, at::kFloat);
  ASSERT_EQ(plain.sizes(), at::IntArrayRef({1, 2, 9}));
  EXPECT_EQ(plain[0][0].isinf().sum().item<int64_t>(), 6);
  EXPECT_FALSE(slidingWindowMask(cache, 1, 9, 2, at::kFloat).defined());  // hides nothing yet
  cache.rollback();
}

// Every compression method runs on every family as on Llama 2 (the cache holds the keys after
// q/k norm and RoPE, so nothing downstream needs to know the family): a 12-token prompt at half
// the budget, then 11 greedy tokens past Mistral's window, all in the vocabulary. The keys a
// compressed Mistral cache merged stay visible while their newest token is in the window.
TEST(ModelFamilies, EveryCompressionMethodRunsOnEveryFamily) {
  TempDir dir;
  for (TinyFamily f :
       {TinyFamily::kLlama3, TinyFamily::kMistral, TinyFamily::kQwen2, TinyFamily::kQwen3}) {
    const std::string folder = dir.file(std::to_string(static_cast<int>(f)));
    test::writeTinyFamily(folder, f);
    const auto model = loadModel(folder);
    std::vector<int> prompt = someTokens(model->config().vocabSize);
    prompt.resize(12);
    for (const CompressionMethod* method : allMethods()) {
      SCOPED_TRACE(folder + " " + method->name());
      CompressionParams params;
      params.method = method->name();
      params.budget = 0.5;
      DecodeStart start = prefillStart(*model, prompt, params.gqaReduction, true);
      compressPrompt(start, params);
      GenerationRequest request;
      request.promptIds = prompt;
      request.steps = 22;
      request.sampling.temperature = 0;
      const DecodeResult r = decode(*model, std::move(start), request, params);
      EXPECT_EQ(r.generatedIds.size(), 11u);  // a token at each position from P - 1 on
      for (int id : r.generatedIds) EXPECT_TRUE(id >= 0 && id < model->config().vocabSize);
    }
  }
}

// A recording's model_config gives back what the cache needs to turn keys (head dim, llama3
// scaling) and what the family is, so a recording of any family reopens as a prefill.
TEST(ModelFamilies, RecordedConfigKeepsTheFamilysFields) {
  for (TinyFamily f :
       {TinyFamily::kLlama3, TinyFamily::kMistral, TinyFamily::kQwen2, TinyFamily::kQwen3}) {
    const ModelConfig c = test::tinyFamilyConfig(f);
    RecordingInfo info;
    info.modelConfigJson = toJson(c).dump();
    info.layers = c.nLayers;
    info.kvHeads = c.nKvHeads;
    info.headDim = c.headDim();
    ModelConfig back = recordedConfig(info);
    back.sharedClassifier = c.sharedClassifier;  // not needed by a cache, not recorded
    EXPECT_EQ(toJson(back), toJson(c));
  }
}

// `info` names the family, what sets it apart, and the KV bytes per token (2 * L * Hkv * D * 4).
TEST(ModelFamilies, InfoNamesTheFamilyAndItsKvBytes) {
  TempDir dir;
  struct Case {
    TinyFamily family;
    std::string line;
  };
  for (const Case& c :
       {Case{TinyFamily::kLlama3, "LlamaForCausalLM: llama3 rope scaling x8 from 512 positions"},
        Case{TinyFamily::kMistral, "MistralForCausalLM: sliding window 5"},
        Case{TinyFamily::kQwen2, "Qwen2ForCausalLM: q/k/v biases, tied embeddings"},
        Case{TinyFamily::kQwen3, "Qwen3ForCausalLM: q/k norms, head dim 16 (hidden / heads 8)"}}) {
    const std::string folder = dir.file(std::to_string(static_cast<int>(c.family)));
    const ModelConfig config = test::writeTinyFamily(folder, c.family);
    const test::CliRun text = test::runCliCommand("info --model " + folder);
    ASSERT_EQ(text.exitCode, 0) << text.err;
    EXPECT_NE(text.out.find("family:           " + c.line), std::string::npos) << text.out;
    const int64_t perToken = 2 * 2 * 2 * config.headDim() * 4;  // K and V, L 2, Hkv 2, fp32
    EXPECT_NE(text.out.find(std::to_string(perToken) + " bytes per token"), std::string::npos)
        << text.out;
    const test::CliRun json = test::runCliCommand("info --model " + folder + " --json");
    ASSERT_EQ(json.exitCode, 0) << json.err;
    const auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j.at("family").get<std::string>().rfind(c.line, 0), 0u) << j.dump(2);
    EXPECT_EQ(j.at("kv_cache_bytes_per_token"), perToken);
    EXPECT_EQ(j.at("config").at("family"), toString(config.family));
  }
}

}  // namespace
}  // namespace kvs
