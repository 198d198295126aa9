// The model on CUDA gives the CPU's logits. Skips where LibTorch has no CUDA or no device.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "cache/kv_cache.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "test_util.h"

namespace kvs {
namespace {

TEST(Cuda, Stories260KLogitsMatchCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device or LibTorch without CUDA";
  const auto cpu = loadModel(test::modelPath("stories260K.bin"));
  const auto gpu = loadModel(test::modelPath("stories260K.bin"), at::Device(at::kCUDA));
  const std::vector<int> tokens = {1, 403, 407, 261, 378, 432, 383, 286};
  KvCache cc = cpu->makeCache(), gc = gpu->makeCache();
  const at::Tensor a = cpu->forward(tokens, cc, LogitsMode::kAll);
  const at::Tensor b = gpu->forward(tokens, gc, LogitsMode::kAll).cpu();
  EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-4));
  EXPECT_TRUE(at::equal(a.argmax(-1), b.argmax(-1)));
  EXPECT_TRUE(gc.keys(0).is_cuda());
}

TEST(Cuda, HalfPrecisionOnTheGpuAgreesWithCpuFp32) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device or LibTorch without CUDA";
  const auto cpu = loadModel(test::modelPath("stories260K.bin"));
  for (auto dtype : {at::kHalf, at::kBFloat16}) {
    LoadOptions options;
    options.device = at::Device(at::kCUDA);
    options.dtype = dtype;
    const auto gpu = loadModel(test::modelPath("stories260K.bin"), options);
    EXPECT_EQ(gpu->computeDtype(), dtype);  // no fp32 fallback on CUDA
    const std::vector<int> tokens = {1, 403, 407, 261, 378, 432, 383, 286};
    KvCache cc = cpu->makeCache(), gc = gpu->makeCache();
    const at::Tensor a = cpu->forward(tokens, cc, LogitsMode::kAll);
    const at::Tensor b = gpu->forward(tokens, gc, LogitsMode::kAll).cpu();
    EXPECT_LT((a - b).abs().max().item<float>(), 0.5);  // the CPU bf16 bound of test_dtypes
  }
}

}  // namespace
}  // namespace kvs
