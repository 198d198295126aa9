// bf16 and fp16 runs of stories260K against fp32: stated tolerances, memory that follows the
// dtype, and every compression method on a half-precision cache.
//
// Over the 64-token greedy sequence of "Once upon a time" (half prefilled, half decoded one token
// at a time; logits span about +-15), measured here and the bounds the test states:
//   case                          measured max |logit error|  bound   top-1 agreement (bound)
//   bf16 weights + compute        0.31                        0.5     100% (>= 95%)
//   fp16 weights (fp32 compute)   0.020                       0.05    100% (100%)
//   fp32 model, fp16 KV cache     0.019                       0.05    100% (100%)
//   fp32 model, bf16 KV cache     0.13                        0.25    100% (>= 95%)

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>

#include "cache/kv_cache.h"
#include "model/model_loader.h"
#include "session/variant.h"
#include "stories_fixture.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class HalfPrecisionModels : public Stories {};

struct DtypeCase {
  std::string name;
  std::optional<at::ScalarType> dtype, kvDtype;
  float maxError;
  double minAgreement;
};

class Dtypes : public Stories, public ::testing::WithParamInterface<DtypeCase> {};

std::vector<int> goldenSequence() {
  return readIds(goldenPath("greedy_once_upon_a_time_n64.tokens.txt"));
}

TEST_P(Dtypes, AgreeWithFp32WithinTheStatedTolerance) {
  const DtypeCase& c = GetParam();
  LoadOptions options;
  options.dtype = c.dtype;
  options.kvDtype = c.kvDtype;
  const auto half = loadModel(modelPath("stories260K.bin"), options);
  const std::vector<int> ids = goldenSequence();
  // Prefill half the sequence, then decode the rest one token at a time (both attention paths).
  auto run = [&](const LlamaModel& m) {
    KvCache cache = m.makeCache();
    const int split = static_cast<int>(ids.size()) / 2;
    std::vector<at::Tensor> rows = {
        m.forward(std::vector<int>(ids.begin(), ids.begin() + split), cache, LogitsMode::kAll)};
    for (size_t i = split; i < ids.size(); ++i) {
      rows.push_back(m.forward({ids[i]}, cache).unsqueeze(0));
    }
    EXPECT_EQ(cache.keys(0).scalar_type(), m.kvDtype());
    return at::cat(rows, 0);
  };
  const at::Tensor expected = run(model()), actual = run(*half);
  ASSERT_EQ(actual.scalar_type(), at::kFloat);
  const float maxError = (expected - actual).abs().max().item<float>();
  const double agreement =
      expected.argmax(-1).eq(actual.argmax(-1)).to(at::kDouble).mean().item<double>();
  std::cout << c.name << ": max |logit error| " << maxError << ", top-1 agreement " << agreement
            << "\n";
  EXPECT_LT(maxError, c.maxError);
  EXPECT_GE(agreement, c.minAgreement);
}

INSTANTIATE_TEST_SUITE_P(
    AgainstFp32, Dtypes,
    ::testing::Values(DtypeCase{"bf16", at::kBFloat16, std::nullopt, 0.5f, 0.95},
                      DtypeCase{"fp16", at::kHalf, std::nullopt, 0.05f, 1.0},
                      DtypeCase{"fp32_kv_fp16", std::nullopt, at::kHalf, 0.05f, 1.0},
                      DtypeCase{"fp32_kv_bf16", std::nullopt, at::kBFloat16, 0.25f, 0.95}),
    [](const auto& info) { return info.param.name; });

TEST_F(HalfPrecisionModels, ReportTheirDtypesAndMemory) {
  LoadOptions options;
  options.dtype = at::kHalf;
  const auto fp16 = loadModel(modelPath("stories260K.bin"), options);
  EXPECT_EQ(fp16->weightDtype(), at::kHalf);
  EXPECT_EQ(fp16->computeDtype(), at::kFloat);  // CPU: no fp16 matmul in LibTorch 1.13
  EXPECT_EQ(fp16->kvDtype(), at::kHalf);
  EXPECT_EQ(fp16->weightBytes() * 2, model().weightBytes());
  KvCache cache = fp16->makeCache();
  fp16->forward({1, 403, 407, 261}, cache);
  EXPECT_EQ(cache.memory().allocated, fp16->config().kvBytesPerToken(2) * 4);
  EXPECT_EQ(cache.memory().full, fp16->config().kvBytesPerToken(2) * 4);
}

class HalfCacheMethods
    : public Stories,
      public ::testing::WithParamInterface<std::pair<std::string, at::ScalarType>> {};

TEST_P(HalfCacheMethods, CompressToTheBudgetAndKeepGenerating) {
  const auto [method, kvDtype] = GetParam();
  LoadOptions options;
  options.kvDtype = kvDtype;
  const auto m = loadModel(modelPath("stories260K.bin"), options);
  GenerationRequest request;
  request.promptIds = tokenizer().encode(
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.");
  request.steps = 150;
  request.sampling.temperature = 0.0f;
  const int T = static_cast<int>(request.promptIds.size());
  CompressionParams p;
  p.method = method;
  p.budget = 0.5;
  const DecodeResult r = runVariant(*m, request, p);
  EXPECT_EQ(r.generatedIds.size(), static_cast<size_t>(150 - T + 1));
  EXPECT_EQ(r.compression.fullBytes, m->config().kvBytesPerToken(2) * T);
  EXPECT_NEAR(r.compression.achievedRatio, 0.5, 0.03);
  EXPECT_LE(r.compression.bytes, r.compression.fullBytes * 0.52);
  for (const auto& layer : r.compression.slots) {
    for (int s : layer) EXPECT_LE(s, (T + 1) / 2);
  }
}

INSTANTIATE_TEST_SUITE_P(All, HalfCacheMethods,
                         ::testing::Values(std::pair{"kvmerger", at::kHalf},
                                           std::pair{"kvmerger", at::kBFloat16},
                                           std::pair{"h2o", at::kHalf}, std::pair{"cam", at::kHalf},
                                           std::pair{"streaming", at::kBFloat16}),
                         [](const auto& info) {
                           return info.param.first + "_" + dtypeName(info.param.second);
                         });

}  // namespace
}  // namespace kvs::test
