// The model on CUDA gives the CPU's results: logits (fp32 within 1e-4, fp16 and bf16 within the
// CPU dtype test's bounds), greedy ids, and every compression method's cache. Skips where
// LibTorch has no CUDA or no device. KVS_GPU_TEST_DEVICE=cpu runs the same comparisons with the
// CPU in CUDA's place, so a rehearsal without a GPU exercises the tests' own code.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "test_util.h"

namespace kvs {
namespace {

std::optional<at::Device> deviceUnderTest() {
  const char* forced = std::getenv("KVS_GPU_TEST_DEVICE");
  if (forced && std::string(forced) == "cpu") return at::Device(at::kCPU);
  if (at::hasCUDA()) return at::Device(at::kCUDA);
  return std::nullopt;
}

#define KVS_NEED_DEVICE()                                                  \
  const std::optional<at::Device> device = deviceUnderTest();              \
  if (!device) GTEST_SKIP() << "no CUDA device or LibTorch without CUDA";  \
  const auto gpu = loadModel(test::modelPath("stories260K.bin"), *device); \
  const auto cpu = loadModel(test::modelPath("stories260K.bin"))

const std::vector<int> kTokens = {1, 403, 407, 261, 378, 432, 383, 286};

// A prompt of n ids inside stories260K's 512-token vocabulary, BOS first.
std::vector<int> longPrompt(int n) {
  std::vector<int> ids = {1};
  for (int i = 1; i < n; ++i) ids.push_back(2 + (i * 37) % 509);
  return ids;
}

// Greedy continuation of the prompt, one forward step per token (the decode path's shape).
std::vector<int> greedy(const LlamaModel& model, const std::vector<int>& prompt, int steps) {
  KvCache cache = model.makeCache();
  at::Tensor logits = model.forward(prompt, cache);
  std::vector<int> ids;
  for (int s = 0; s < steps; ++s) {
    ids.push_back(static_cast<int>(logits.argmax().item<int64_t>()));
    logits = model.forward({ids.back()}, cache);
  }
  return ids;
}

// The prompt's cache with its accumulated attention, as a session's prefill leaves it.
KvCache prefilled(const LlamaModel& model, const std::vector<int>& prompt) {
  KvCache cache = model.makeCache();
  AttentionTracker tracker(cache, model.config().groupSize(), GqaReduction::kMean);
  model.forward(prompt, cache, LogitsMode::kLast, &tracker);
  return cache;
}

TEST(Cuda, Stories260KLogitsMatchCpu) {
  KVS_NEED_DEVICE();
  KvCache cc = cpu->makeCache(), gc = gpu->makeCache();
  const at::Tensor a = cpu->forward(kTokens, cc, LogitsMode::kAll);
  const at::Tensor b = gpu->forward(kTokens, gc, LogitsMode::kAll).cpu();
  std::cout << "fp32 max |logit error| " << (a - b).abs().max().item<float>() << "\n";
  EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-4));
  EXPECT_TRUE(at::equal(a.argmax(-1), b.argmax(-1)));
  EXPECT_EQ(gc.keys(0).device(), *device);
}

TEST(Cuda, GreedyIdsMatchCpuInFp32) {
  KVS_NEED_DEVICE();
  EXPECT_EQ(greedy(*cpu, {1}, 64), greedy(*gpu, {1}, 64));
  EXPECT_EQ(greedy(*cpu, longPrompt(100), 32), greedy(*gpu, longPrompt(100), 32));
}

TEST(Cuda, HalfPrecisionOnTheGpuAgreesWithCpuFp32) {
  KVS_NEED_DEVICE();
  (void)gpu;  // this test loads its own half-precision models
  // The bounds of tests/model/test_dtypes.cpp: bf16 weights + compute 0.5, fp16 weights 0.05
  // (there fp16 computes in fp32 on the CPU; CUDA computes in fp16, RMSNorm/RoPE/softmax fp32).
  for (auto [dtype, bound] : {std::pair{at::kHalf, 0.05f}, std::pair{at::kBFloat16, 0.5f}}) {
    LoadOptions options;
    options.device = *device;
    options.dtype = dtype;
    const auto half = loadModel(test::modelPath("stories260K.bin"), options);
    if (device->is_cuda()) EXPECT_EQ(half->computeDtype(), dtype);  // no fp32 fallback on CUDA
    KvCache cc = cpu->makeCache(), hc = half->makeCache();
    const at::Tensor a = cpu->forward(kTokens, cc, LogitsMode::kAll);
    const at::Tensor b = half->forward(kTokens, hc, LogitsMode::kAll).cpu();
    const float error = (a - b).abs().max().item<float>();
    std::cout << c10::toString(dtype) << " max |logit error| " << error << "\n";
    EXPECT_LT(error, bound) << c10::toString(dtype);
  }
}

TEST(Cuda, EveryMethodCompressesACudaCacheAsOnTheCpu) {
  KVS_NEED_DEVICE();
  const std::vector<int> prompt = longPrompt(96);
  const KvCache cpuFull = prefilled(*cpu, prompt), gpuFull = prefilled(*gpu, prompt);
  for (const CompressionMethod* method : allMethods()) {
    SCOPED_TRACE(method->name());
    CompressionParams params;
    params.method = method->name();
    params.budget = 0.5;
    const auto policy = makePolicy(params);
    KvCache c = cpuFull.clone(), g = gpuFull.clone();
    if (policy) {
      policy->compress(c);
      policy->compress(g);
    }
    ASSERT_EQ(g.keys(0).device(), *device);
    for (int l = 0; l < c.nLayers(); ++l) {
      for (int h = 0; h < c.nKvHeads(); ++h) {
        const auto& a = c.cells(l, h);
        const auto& b = g.cells(l, h);
        ASSERT_EQ(a.size(), b.size()) << "layer " << l << " head " << h;
        for (size_t s = 0; s < a.size(); ++s) {
          EXPECT_EQ(a[s].first, b[s].first);
          EXPECT_EQ(a[s].last, b[s].last);
          EXPECT_EQ(a[s].count, b[s].count);
        }
        // Rows past a head's own slots are padding up to the layer's longest head.
        const int64_t n = static_cast<int64_t>(a.size());
        const auto rows = [&](const at::Tensor& t) { return t[h].narrow(0, 0, n).cpu(); };
        EXPECT_TRUE(at::allclose(rows(c.keys(l)), rows(g.keys(l)), 1e-4, 1e-4)) << l << "/" << h;
        EXPECT_TRUE(at::allclose(rows(c.values(l)), rows(g.values(l)), 1e-4, 1e-4))
            << l << "/" << h;
      }
    }
    // One decode step over each compressed cache gives the same logits.
    const at::Tensor a = cpu->forward({42}, c);
    const at::Tensor b = gpu->forward({42}, g).cpu();
    EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-4)) << (a - b).abs().max().item<float>();
  }
}

}  // namespace
}  // namespace kvs
