// A prompt's attention through queryBlockAttention on both of its paths: the fused float32 rows
// (kernels/causal_attention.h, AVX-512) and LibTorch's matmuls (any other instruction set),
// against a plain loop in double written here: softmax(scale q k^T + mask) v with each query
// seeing the columns up to its own position. Shapes with head dims 8, 5 and 64, one to four query
// heads per KV head, a cache before the prompt, column counts off multiples of 16, and masks with
// hidden slots and finite biases, per KV head or shared; a NaN in the cache (the rows that see it
// NaN, as LibTorch's softmax makes them, the other KV heads' rows not); and the pool's thread
// count, which must change no bit.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/causal_attention.h"
#include "kernels/gemv.h"
#include "kernels/row_split_linear.h"
#include "kernels/worker_pool.h"
#include "model/layer_observer.h"
#include "model/query_block_attention.h"

namespace kvs {
namespace {

using kernels::Isa;

struct Case {
  int64_t n, past, Hq, Hkv, D;
  int maskHeads;  // 0: no mask; 1: one shared by the KV heads; Hkv: one each
};

struct Inputs {
  at::Tensor q, keys, values, mask;  // [n, Hq, D], [Hkv, Tk, D] x2, [Hm, G*n, Tk] or undefined
};

Inputs makeInputs(const Case& c, uint64_t seed) {
  at::manual_seed(seed);
  const int64_t Tk = c.past + c.n, G = c.Hq / c.Hkv;
  Inputs in;
  in.q = at::randn({c.n, c.Hq, c.D}).mul_(2.0);
  in.keys = at::randn({c.Hkv, Tk, c.D});
  in.values = at::randn({c.Hkv, Tk, c.D});
  if (c.maskHeads > 0) {  // biases in [-2, 2], about one slot in five hidden
    in.mask = at::rand({c.maskHeads, G * c.n, Tk}).mul_(4.0).sub_(2.0);
    in.mask.masked_fill_(at::rand({c.maskHeads, G * c.n, Tk}) < 0.2, -INFINITY);
    for (int64_t h = 0; h < c.maskHeads; ++h) {  // each query keeps its own slot
      for (int64_t r = 0; r < G * c.n; ++r) in.mask[h][r][c.past + r % c.n] = 0.5;
    }
  }
  return in;
}

// The plain loop, in double: out [n, Hq*D], probs [Hq, n, Tk] (0 where a query cannot see).
std::pair<at::Tensor, at::Tensor> reference(const Inputs& in, double scale) {
  const at::Tensor q = in.q.to(at::kDouble), k = in.keys.to(at::kDouble);
  const at::Tensor v = in.values.to(at::kDouble);
  const at::Tensor m = in.mask.defined() ? in.mask.to(at::kDouble) : at::Tensor();
  const int64_t n = q.size(0), Hq = q.size(1), D = q.size(2), Hkv = k.size(0), Tk = k.size(1);
  const int64_t G = Hq / Hkv;
  const auto qa = q.accessor<double, 3>(), ka = k.accessor<double, 3>();
  const auto va = v.accessor<double, 3>();
  at::Tensor out = at::zeros({n, Hq * D}, at::kDouble);
  at::Tensor probs = at::zeros({Hq, n, Tk}, at::kDouble);
  auto oa = out.accessor<double, 2>();
  auto pa = probs.accessor<double, 3>();
  for (int64_t h = 0; h < Hq; ++h) {
    const int64_t kv = h / G, g = h % G;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t visible = Tk - n + i + 1;
      std::vector<double> s(visible);
      double top = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < visible; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += qa[i][h][d] * ka[kv][j][d];
        s[j] = scale * dot;
        if (m.defined()) s[j] += m[m.size(0) == 1 ? 0 : kv][g * n + i][j].item<double>();
        top = std::max(top, s[j]);
      }
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - top));
      for (int64_t j = 0; j < visible; ++j) {
        pa[h][i][j] = s[j] / sum;
        for (int64_t d = 0; d < D; ++d) oa[i][h * D + d] += pa[h][i][j] * va[kv][j][d];
      }
    }
  }
  return {out, probs};
}

struct KeepsAttention : LayerObserver {
  void onTensor(int, const std::string& name, const at::Tensor& t) override {
    if (name == "attn") attn = t.clone();
    if (name == "attn_out") attnOut = t.clone();
  }
  bool wantsAttention() const override { return true; }
  at::Tensor attn, attnOut;
};

struct IsaGuard {  // restores the instruction set and the pool size a test changed
  Isa isa = kernels::activeIsa();
  int threads = kernels::poolThreads();
  ~IsaGuard() {
    kernels::useIsa(isa);
    kernels::setPoolThreads(threads);
  }
};

std::vector<Isa> pathsOfThisCpu() {  // the fused rows where the CPU has AVX-512, LibTorch's
  std::vector<Isa> isas{Isa::kPlain};
  // (KVS_KERNELS=libtorch leaves them out)
  if (kernels::bestIsa() >= Isa::kAvx512 && kernels::matvecEnabled()) {
    isas.push_back(Isa::kAvx512);
  }
  return isas;
}

double worstError(const at::Tensor& got, const at::Tensor& expected) {
  return (got.to(at::kDouble) - expected).abs().max().item<double>();
}

TEST(CausalAttention, BothPathsEqualAPlainLoop) {
  IsaGuard guard;
  const std::vector<Case> cases = {
      {1, 0, 1, 1, 8, 0},   {17, 0, 8, 4, 8, 0},    {40, 9, 8, 4, 8, 4},   {33, 0, 4, 1, 5, 1},
      {5, 30, 6, 2, 64, 2}, {64, 0, 12, 12, 64, 0}, {23, 50, 4, 4, 16, 1}, {3, 1, 2, 1, 8, 1},
  };
  for (Isa isa : pathsOfThisCpu()) {
    kernels::useIsa(isa);
    ASSERT_EQ(isa >= Isa::kAvx512, kernels::causalAttentionAvailable());
    for (size_t c = 0; c < cases.size(); ++c) {
      const Inputs in = makeInputs(cases[c], 100 + c);
      const double scale = 1.0 / std::sqrt(double(cases[c].D));
      const auto [out, probs] = reference(in, scale);
      KeepsAttention seen;
      const at::Tensor got =
          queryBlockAttention(in.q, in.keys, in.values, in.mask, scale, 0, &seen);
      const std::string where = kernels::isaName(isa) + ", case " + std::to_string(c);
      const double tolerance = 2e-5 * std::max(1.0, out.abs().max().item<double>());
      EXPECT_LE(worstError(got, out), tolerance) << where;
      EXPECT_LE(worstError(seen.attn, probs), 2e-6) << where;
      const int64_t n = cases[c].n, Hq = cases[c].Hq, D = cases[c].D;
      EXPECT_LE(worstError(seen.attnOut, out.view({n, Hq, D}).transpose(0, 1)), tolerance) << where;
      // Nothing past a query's own position: exact zeros.
      for (int64_t i = 0; i + 1 < n; ++i) {
        EXPECT_EQ(0.0, seen.attn.select(1, i)
                           .narrow(1, cases[c].past + i + 1, n - i - 1)
                           .abs()
                           .max()
                           .item<double>())
            << where << ", row " << i;
      }
    }
  }
}

// A bfloat16 prompt (a bfloat16 model's prefill) takes the fused rows too: widened, attended in
// float32 and rounded once, so each output is its exact attention over the bfloat16 inputs to
// within half a bfloat16 step (LibTorch's bfloat16 matmuls round the scores and probabilities
// as well, and were most of a 1.1B model's prefill time outside the projections).
TEST(CausalAttention, Bfloat16InputsAreAttendedInFloat32AndRoundedOnce) {
  if (!kernels::causalAttentionAvailable()) GTEST_SKIP() << "the fused rows need AVX-512";
  for (const Case& c : {Case{40, 9, 8, 4, 16, 4}, Case{64, 0, 4, 1, 64, 0}}) {
    Inputs in = makeInputs(c, 21);
    for (at::Tensor* t : {&in.q, &in.keys, &in.values}) *t = t->to(at::kBFloat16);
    if (in.mask.defined()) in.mask = in.mask.to(at::kBFloat16);
    Inputs wide = in;  // the same bfloat16 values, in float32, for the reference
    for (at::Tensor* t : {&wide.q, &wide.keys, &wide.values, &wide.mask}) {
      if (t->defined()) *t = t->to(at::kFloat);
    }
    const double scale = 1.0 / std::sqrt(double(c.D));
    const at::Tensor expected = reference(wide, scale).first;  // [n, Hq*D] double
    KeepsAttention seen;
    const at::Tensor got = queryBlockAttention(in.q, in.keys, in.values, in.mask, scale, 0, &seen);
    ASSERT_EQ(got.scalar_type(), at::kBFloat16);
    // Observers see the output as the layer uses it: rounded, [Hq, n, D].
    EXPECT_TRUE(at::equal(seen.attnOut, got.view({c.n, c.Hq, c.D}).transpose(0, 1)));
    const at::Tensor error = (got.to(at::kDouble) - expected).abs();
    EXPECT_TRUE((error <= expected.abs() * (1.0 / 256) + 1e-5).all().item<bool>())
        << "worst " << error.max().item<double>() << " at head dim " << c.D;
  }
}

TEST(CausalAttention, ARowSeeingANanKeyIsAllNan) {
  IsaGuard guard;
  for (Isa isa : pathsOfThisCpu()) {
    kernels::useIsa(isa);
    Inputs in = makeInputs({20, 4, 4, 2, 8, 0}, 7);
    in.keys[1][10][3] = std::nanf("");  // slot 10 of KV head 1: prompt token 6
    const at::Tensor out =
        queryBlockAttention(in.q, in.keys, in.values, in.mask, 0.35, 0, nullptr).view({20, 4, 8});
    // Query heads 2 and 3 read KV head 1; queries from token 6 on see slot 10.
    EXPECT_TRUE(out.narrow(0, 6, 14).narrow(1, 2, 2).isnan().all().item<bool>())
        << kernels::isaName(isa);
    EXPECT_TRUE(out.narrow(1, 0, 2).isfinite().all().item<bool>()) << kernels::isaName(isa);
  }
}

TEST(CausalAttention, ThePoolsThreadCountChangesNoBit) {
  if (!kernels::causalAttentionAvailable()) GTEST_SKIP() << "the fused rows need AVX-512";
  IsaGuard guard;
  const Inputs in = makeInputs({300, 20, 8, 4, 8, 4}, 9);
  std::vector<at::Tensor> outs;
  for (int threads : {1, 2, 3}) {
    kernels::setPoolThreads(threads);
    outs.push_back(queryBlockAttention(in.q, in.keys, in.values, in.mask, 0.3, 0, nullptr));
  }
  EXPECT_TRUE(at::equal(outs[0], outs[1]));
  EXPECT_TRUE(at::equal(outs[0], outs[2]));
}

// kernels/row_split_linear.h, which a float32 prefill's projections take: each row of x W^T as a
// plain loop in double gives it, for row counts that leave the caller alone, split evenly, and
// split unevenly over the threads.
TEST(RowSplitLinear, EveryRowEqualsAPlainLoop) {
  IsaGuard guard;
  at::manual_seed(3);
  const at::Tensor w = at::randn({37, 29});
  for (int threads : {1, 2, 3}) {
    kernels::setPoolThreads(threads);
    for (int64_t n : {1, 15, 32, 33, 100, 257}) {
      const at::Tensor x = at::randn({n, 29});
      const at::Tensor y = kernels::rowSplitLinear(x, w);
      ASSERT_EQ(y.sizes(), (at::IntArrayRef{n, 37}));
      const auto xa = x.accessor<float, 2>(), wa = w.accessor<float, 2>();
      double worst = 0;
      for (int64_t r = 0; r < n; ++r) {
        for (int64_t o = 0; o < 37; ++o) {
          double dot = 0;
          for (int64_t c = 0; c < 29; ++c) dot += double(xa[r][c]) * wa[o][c];
          worst = std::max(worst, std::abs(dot - y[r][o].item<double>()));
        }
      }
      EXPECT_LE(worst, 1e-4) << n << " rows on " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace kvs
