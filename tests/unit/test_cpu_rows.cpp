// The float32 row loops of model/cpu_rows.h that a CPU prompt's layers run (and the decode step,
// one row at a time): RMSNorm against the formula in double, RoPE against RotaryEmbedding::apply
// (LibTorch's complex multiply) in both pairings at positions past the start, the SwiGLU gate
// against silu(g) * u in double; inputs that are narrow views of a wider matrix (as q and k are
// of qkv), and row counts that stay on the caller or split over the pool's threads.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/worker_pool.h"
#include "model/cpu_rows.h"
#include "model/rope.h"

namespace kvs {
namespace {

struct PoolGuard {  // restores the pool size a test changed
  int threads = kernels::poolThreads();
  ~PoolGuard() { kernels::setPoolThreads(threads); }
};

// KVS_KERNELS=libtorch turns the row loops off (LibTorch's ops run instead).
bool rowLoopsOn() {
  return cpuRowsHandle(at::zeros({1, 2}));
}

double worst(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(CpuRows, RmsNormOfEveryRowEqualsTheFormulaInDouble) {
  if (!rowLoopsOn()) GTEST_SKIP() << "KVS_KERNELS=libtorch: no row loops";
  PoolGuard guard;
  at::manual_seed(1);
  for (int threads : {1, 2}) {
    kernels::setPoolThreads(threads);
    for (int64_t n : {1, 7, 700}) {
      const at::Tensor wide = at::randn({n, 3, 48}).mul_(3.0);
      const at::Tensor x = wide.narrow(1, 1, 2).narrow(2, 4, 40);  // [n, 2, 40], strides 144, 48
      const at::Tensor weight = at::randn({40});
      const float eps = 1e-5f;
      const at::Tensor got = rmsNormRows(x, weight, eps);
      const at::Tensor xd = x.to(at::kDouble);
      const at::Tensor expected =
          xd / (xd.square().mean(-1, true) + eps).sqrt() * weight.to(at::kDouble);
      EXPECT_TRUE(got.is_contiguous());
      EXPECT_LE(worst(got, expected), 2e-6 * expected.abs().max().item<double>())
          << n << " rows, " << threads << " threads";
      const at::Tensor flat = at::randn({n, 50}).narrow(1, 3, 40);  // [n, C], rows 50 apart
      const at::Tensor f = flat.to(at::kDouble);
      EXPECT_LE(worst(rmsNormRows(flat, weight, eps),
                      f / (f.square().mean(-1, true) + eps).sqrt() * weight.to(at::kDouble)),
                1e-5);
    }
  }
}

TEST(CpuRows, RopeEqualsRotaryEmbeddingApplyInBothPairings) {
  if (!rowLoopsOn()) GTEST_SKIP() << "KVS_KERNELS=libtorch: no row loops";
  PoolGuard guard;
  at::manual_seed(2);
  for (RopeStyle style : {RopeStyle::kAdjacentPairs, RopeStyle::kHalfSplit}) {
    const RotaryEmbedding rope(16, 2048, 10000.0f, style);
    for (int threads : {1, 2}) {
      kernels::setPoolThreads(threads);
      for (int64_t n : {1, 700}) {  // 700 x 2 x 16 elements: split over the threads
        const at::Tensor qkv = at::randn({n, 7 * 16});
        const at::Tensor k = qkv.narrow(1, 4 * 16, 2 * 16).view({n, 2, 16});  // a narrow view
        const at::Tensor got = ropeRows(k, rope, 500);
        EXPECT_LE(worst(got, rope.apply(k.contiguous(), 500)), 1e-5)
            << toString(style) << ", " << n << " rows, " << threads << " threads";
      }
    }
    EXPECT_THROW(ropeRows(at::randn({30, 2, 16}), rope, 2030), c10::Error);  // past the table
    EXPECT_THROW(ropeRows(at::randn({3, 2, 8}), rope, 0), c10::Error);  // another head dim
  }
}

TEST(CpuRows, SiluGateEqualsSiluTimesUpInDouble) {
  if (!rowLoopsOn()) GTEST_SKIP() << "KVS_KERNELS=libtorch: no row loops";
  PoolGuard guard;
  at::manual_seed(3);
  for (int threads : {1, 2}) {
    kernels::setPoolThreads(threads);
    for (int64_t n : {1, 9, 400}) {
      const at::Tensor h = at::randn({n, 2 * 50}).mul_(4.0);
      const at::Tensor d = h.to(at::kDouble);
      const at::Tensor g = d.narrow(1, 0, 50), u = d.narrow(1, 50, 50);
      const at::Tensor expected = g / (1 + (-g).exp()) * u;
      EXPECT_LE(worst(siluGateRows(h), expected), 1e-5 * expected.abs().max().item<double>())
          << n << " rows, " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace kvs
