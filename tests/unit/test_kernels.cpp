// kernels/gemv.h and kernels/worker_pool.h against a plain double-precision loop written here,
// for every instruction set this CPU runs, every weight dtype and row lengths around the vector
// widths (the masked and scalar tails), on one thread and split over several.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <c10/core/InferenceMode.h>
#include <atomic>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/gemv.h"
#include "kernels/softmax_row.h"
#include "kernels/softmax_rows.h"
#include "kernels/widen.h"
#include "kernels/worker_pool.h"

namespace {

using kvs::kernels::Isa;
using kvs::kernels::WeightType;

// IEEE half to double, decoded from its fields (independent of c10::Half and F16C).
double halfToDouble(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return sign ? -magnitude : magnitude;
}
double bf16ToDouble(uint16_t b) {
  const uint32_t bits = uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

struct Matrix {
  WeightType type;
  int64_t out, in, ld;
  std::vector<float> f32;
  std::vector<uint16_t> u16;
  const void* data() const {
    return type == WeightType::kFloat32 ? static_cast<const void*>(f32.data()) : u16.data();
  }
  double at(int64_t r, int64_t k) const {
    const int64_t i = r * ld + k;
    return type == WeightType::kFloat32    ? f32[i]
           : type == WeightType::kBFloat16 ? bf16ToDouble(u16[i])
                                           : halfToDouble(u16[i]);
  }
};

Matrix randomMatrix(WeightType type, int64_t out, int64_t in, int64_t ld, std::mt19937& gen) {
  Matrix m{type, out, in, ld, {}, {}};
  std::normal_distribution<float> normal(0.f, 1.f);
  if (type == WeightType::kFloat32) {
    m.f32.resize(out * ld);
    for (float& v : m.f32) v = normal(gen);
  } else {
    // Random bit patterns of finite values of magnitude below about 2^4: exponent field kept low.
    m.u16.resize(out * ld);
    std::uniform_int_distribution<int> bits(0, 0xffff);
    for (uint16_t& v : m.u16) {
      v = static_cast<uint16_t>(bits(gen));
      v = type == WeightType::kBFloat16
              ? static_cast<uint16_t>((v & 0x807f) | 0x3c00 | (v & 0x0380))
              : static_cast<uint16_t>((v & 0x83ff) | 0x3000 | (v & 0x0c00));
    }
  }
  return m;
}

// y_r = sum_k W[r,k] x_k in double; bound: float32 accumulation error of the row's |terms|.
void expectMatches(const Matrix& m, const std::vector<float>& x, const std::vector<float>& y,
                   const std::string& what) {
  for (int64_t r = 0; r < m.out; ++r) {
    double exact = 0, magnitude = 0;
    for (int64_t k = 0; k < m.in; ++k) {
      exact += m.at(r, k) * x[k];
      magnitude += std::abs(m.at(r, k) * x[k]);
    }
    ASSERT_NEAR(y[r], exact, 2e-6 * magnitude + 1e-30) << what << " row " << r;
  }
}

std::vector<Isa> isasOfThisCpu() {
  std::vector<Isa> isas{Isa::kPlain};
  if (kvs::kernels::bestIsa() != Isa::kPlain) isas.push_back(Isa::kAvx2);
  if (kvs::kernels::bestIsa() >= Isa::kAvx512) isas.push_back(Isa::kAvx512);
  if (kvs::kernels::bestIsa() >= Isa::kAvx512Bf16) isas.push_back(Isa::kAvx512Bf16);
  return isas;
}

struct IsaGuard {  // restores the instruction set and the pool size a test changed
  Isa isa = kvs::kernels::activeIsa();
  int threads = kvs::kernels::poolThreads();
  ~IsaGuard() {
    kvs::kernels::useIsa(isa);
    kvs::kernels::setPoolThreads(threads);
  }
};

TEST(Kernels, MatvecEqualsAPlainLoopForEveryIsaDtypeAndTail) {
  IsaGuard guard;
  kvs::kernels::setPoolThreads(1);
  std::mt19937 gen(7);
  const std::vector<std::array<int64_t, 3>> shapes = {
      {1, 1, 1},   {3, 7, 7},   {5, 8, 8},    {6, 15, 15},    {7, 16, 16},
      {9, 17, 17}, {4, 31, 40}, {13, 33, 33}, {37, 100, 100}, {21, 773, 800}};
  for (Isa isa : isasOfThisCpu()) {
    kvs::kernels::useIsa(isa);
    for (WeightType type : {WeightType::kFloat32, WeightType::kBFloat16, WeightType::kFloat16}) {
      for (const auto& [out, in, ld] : shapes) {
        const Matrix m = randomMatrix(type, out, in, ld, gen);
        std::vector<float> x(in), y(out, std::nanf(""));
        std::normal_distribution<float> normal(0.f, 1.f);
        for (float& v : x) v = normal(gen);
        kvs::kernels::matvecRaw(m.data(), type, out, in, ld, x.data(), y.data());
        expectMatches(m, x, y,
                      kvs::kernels::isaName(isa) + " type " + std::to_string(int(type)) + " " +
                          std::to_string(out) + "x" + std::to_string(in));
      }
    }
  }
}

TEST(Kernels, SplittingRowsOverThreadsChangesNoBit) {
  IsaGuard guard;
  std::mt19937 gen(11);
  for (Isa isa : isasOfThisCpu()) {
    kvs::kernels::useIsa(isa);
    for (WeightType type : {WeightType::kFloat32, WeightType::kBFloat16, WeightType::kFloat16}) {
      const Matrix m = randomMatrix(type, 1001, 301, 301, gen);  // above the threading threshold
      std::vector<float> x(301);
      std::normal_distribution<float> normal(0.f, 1.f);
      for (float& v : x) v = normal(gen);
      std::vector<float> one(1001), many(1001);
      kvs::kernels::setPoolThreads(1);
      kvs::kernels::matvecRaw(m.data(), type, 1001, 301, 301, x.data(), one.data());
      expectMatches(m, x, one, "one thread");
      for (int threads : {2, 3, 5}) {
        kvs::kernels::setPoolThreads(threads);
        std::fill(many.begin(), many.end(), std::nanf(""));
        kvs::kernels::matvecRaw(m.data(), type, 1001, 301, 301, x.data(), many.data());
        ASSERT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float)))
            << kvs::kernels::isaName(isa) << " on " << threads << " threads";
      }
    }
  }
}

// A bfloat16 W times an x held in bfloat16 (a bfloat16 model's activations) for every instruction
// set (AVX-512 BF16 multiplies pairs with vdpbf16ps, the others widen x), lengths around the 32-
// and 64-weight steps and the 4- and 8-row blocks, on one thread and split over three (no bit
// may change with the split).
TEST(Kernels, Bfloat16TimesBfloat16EqualsAPlainLoop) {
  IsaGuard guard;
  std::mt19937 gen(17);
  const std::vector<std::array<int64_t, 3>> shapes = {
      {1, 1, 1},    {3, 2, 2},   {5, 31, 31},  {6, 32, 40},    {9, 33, 33},    {4, 63, 64},
      {13, 64, 64}, {8, 65, 70}, {12, 97, 97}, {37, 100, 100}, {21, 773, 800}, {1001, 301, 301}};
  for (Isa isa : isasOfThisCpu()) {
    kvs::kernels::useIsa(isa);
    for (const auto& [out, in, ld] : shapes) {
      const Matrix m = randomMatrix(WeightType::kBFloat16, out, in, ld, gen);
      const Matrix xBits = randomMatrix(WeightType::kBFloat16, 1, in, in, gen);
      std::vector<float> x(in);  // the same values, for the double loop
      for (int64_t k = 0; k < in; ++k) x[k] = static_cast<float>(xBits.at(0, k));
      std::vector<float> one(out, std::nanf("")), many(out, std::nanf(""));
      kvs::kernels::setPoolThreads(1);
      kvs::kernels::matvecRawBf16(m.u16.data(), out, in, ld, xBits.u16.data(), one.data());
      const std::string what =
          kvs::kernels::isaName(isa) + " " + std::to_string(out) + "x" + std::to_string(in);
      expectMatches(m, x, one, what);
      kvs::kernels::setPoolThreads(3);
      kvs::kernels::matvecRawBf16(m.u16.data(), out, in, ld, xBits.u16.data(), many.data());
      ASSERT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float))) << what;
    }
  }
}

TEST(Kernels, PoolRunsEveryTaskExactlyOnce) {
  IsaGuard guard;
  for (int threads : {1, 2, 4}) {
    kvs::kernels::setPoolThreads(threads);
    ASSERT_EQ(threads, kvs::kernels::poolThreads());
    for (int round = 0; round < 300; ++round) {
      const int tasks = 1 + round % 9;
      std::vector<std::atomic<int>> runs(tasks);
      kvs::kernels::runOnPool(
          tasks, [](int i, void* c) { (*static_cast<std::vector<std::atomic<int>>*>(c))[i]++; },
          &runs);
      for (int i = 0; i < tasks; ++i) ASSERT_EQ(1, runs[i].load()) << threads << " " << tasks;
    }
  }
}

TEST(Kernels, MatvecOnTensorsKeepsTheInputDtype) {
  at::manual_seed(3);
  const at::Tensor w = at::randn({70, 50});
  const at::Tensor x = at::randn({50});
  const at::Tensor expected = at::mv(w.to(at::kDouble), x.to(at::kDouble));
  EXPECT_TRUE(at::allclose(kvs::kernels::matvec(w, x).to(at::kDouble), expected, 1e-5, 1e-5));
  // float16 weights are read as stored: no float32 copy of the matrix is made.
  const at::Tensor wHalf = w.to(at::kHalf);
  const at::Tensor halfExpected = at::mv(wHalf.to(at::kDouble), x.to(at::kDouble));
  EXPECT_TRUE(
      at::allclose(kvs::kernels::matvec(wHalf, x).to(at::kDouble), halfExpected, 1e-5, 1e-5));
  const at::Tensor yb = kvs::kernels::matvec(w.to(at::kBFloat16), x.to(at::kBFloat16));
  EXPECT_EQ(at::kBFloat16, yb.scalar_type());
  const at::Tensor bExpected =
      at::mv(w.to(at::kBFloat16).to(at::kDouble), x.to(at::kBFloat16).to(at::kDouble));
  EXPECT_TRUE(at::allclose(yb.to(at::kDouble), bExpected, 1e-2, 1e-2));  // one bf16 rounding
  EXPECT_FALSE(kvs::kernels::matvecHandles(w.t(), x));                   // column stride 70
  EXPECT_FALSE(kvs::kernels::matvecHandles(w.to(at::kInt), x));
  EXPECT_FALSE(kvs::kernels::matvecHandles(w, at::randn({49})));
  EXPECT_THROW(kvs::kernels::matvec(w, at::randn({49})), std::exception);
}

// Each row's softmax is computed by a plain loop here (max, exp, sum in double) and compared with
// the split rows; the split must also equal LibTorch's own softmax bit for bit (the same per-row
// code runs, only on another thread).
TEST(Kernels, SoftmaxRowsSplitOverThreadsIsTheSoftmaxOfEachRow) {
  IsaGuard guard;
  at::manual_seed(5);
  for (int threads : {1, 2, 3}) {
    kvs::kernels::setPoolThreads(threads);
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      at::Tensor scores = (at::randn({3, 301, 257}) * 4).to(dtype);        // above the threshold
      scores.select(2, 7).fill_(-std::numeric_limits<float>::infinity());  // masked keys
      const at::Tensor probs = [&] {
        c10::InferenceMode inference;
        return kvs::kernels::softmaxRows(scores);
      }();
      ASSERT_EQ(at::kFloat, probs.scalar_type());
      ASSERT_EQ(scores.sizes(), probs.sizes());
      EXPECT_TRUE(at::equal(probs, at::softmax(scores, -1, at::kFloat))) << threads;
      const at::Tensor s = scores.to(at::kDouble).view({-1, 257}), p = probs.view({-1, 257});
      for (int64_t r = 0; r < s.size(0); r += 37) {
        const at::Tensor rowTensor = s[r];
        const auto row = rowTensor.accessor<double, 1>();
        double top = -INFINITY, sum = 0;
        for (int64_t k = 0; k < 257; ++k) top = std::max(top, row[k]);
        for (int64_t k = 0; k < 257; ++k) sum += std::exp(row[k] - top);
        for (int64_t k = 0; k < 257; ++k) {
          ASSERT_NEAR(std::exp(row[k] - top) / sum, p[r][k].item<float>(), 1e-6) << r << " " << k;
        }
      }
    }
  }
}

// Decode attention's weighted values, y = W^T p, against a double loop: every dtype, column counts
// around the vector width, rows with a stride past the columns (a cache's head has ld >= D).
TEST(Kernels, WeightedRowsEqualAPlainLoop) {
  IsaGuard guard;
  std::mt19937 gen(13);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (Isa isa : isasOfThisCpu()) {
    kvs::kernels::useIsa(isa);
    for (WeightType type : {WeightType::kFloat32, WeightType::kBFloat16, WeightType::kFloat16}) {
      for (const auto& [rows, cols, ld] : std::vector<std::array<int64_t, 3>>{
               {1, 1, 1}, {5, 8, 8}, {7, 16, 20}, {300, 17, 17}, {33, 64, 64}, {9, 100, 130}}) {
        const Matrix m = randomMatrix(type, rows, cols, ld, gen);
        std::vector<float> p(rows), y(cols, std::nanf(""));
        for (float& v : p) v = normal(gen);
        kvs::kernels::weightedRowsSerial(m.data(), type, rows, cols, ld, p.data(), y.data());
        for (int64_t c = 0; c < cols; ++c) {
          double exact = 0, magnitude = 0;
          for (int64_t r = 0; r < rows; ++r) {
            exact += p[r] * m.at(r, c);
            magnitude += std::abs(p[r] * m.at(r, c));
          }
          ASSERT_NEAR(y[c], exact, 2e-6 * magnitude + 1e-30)
              << kvs::kernels::isaName(isa) << " " << rows << "x" << cols << " column " << c;
        }
      }
    }
  }
}

// One row's softmax in place (the decode step's, with AVX-512 its own e^x) against a softmax in
// double: rows of every length around the vector width, masked (-inf) entries, and spreads from
// 0 down to -87 (e^x near float's smallest normal number). Bound: a few float32 roundings of each
// probability.
TEST(Kernels, SoftmaxOfOneRowEqualsASoftmaxInDouble) {
  IsaGuard guard;
  std::mt19937 gen(19);
  for (Isa isa : isasOfThisCpu()) {
    kvs::kernels::useIsa(isa);
    for (int64_t n : {1, 2, 7, 15, 16, 17, 31, 33, 100, 517}) {
      for (double spread : {1.0, 10.0, 87.0}) {
        std::uniform_real_distribution<float> score(static_cast<float>(-spread), 0.f);
        std::vector<float> s(n);
        for (float& v : s) v = score(gen) + 3.f;  // the maximum is not 0: it is subtracted
        if (n > 2) s[n / 2] = s[1] = -INFINITY;   // masked slots
        std::vector<double> expected(n);
        double top = -INFINITY, sum = 0;
        for (float v : s) top = std::max<double>(top, v);
        for (int64_t i = 0; i < n; ++i) sum += (expected[i] = std::exp(double(s[i]) - top));
        kvs::kernels::softmaxRowInPlace(s.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_NEAR(s[i], expected[i] / sum, 1e-6 * expected[i] / sum + 1e-37)
              << kvs::kernels::isaName(isa) << " n " << n << " spread " << spread << " i " << i;
        }
        // A NaN score (a corrupt cache) makes the whole row NaN, as LibTorch's softmax does.
        std::fill(s.begin(), s.end(), 0.f);
        s[n - 1] = std::nanf("");
        kvs::kernels::softmaxRowInPlace(s.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_TRUE(std::isnan(s[i])) << kvs::kernels::isaName(isa) << " n " << n << " i " << i;
        }
      }
    }
  }
}

// Every float16 bit pattern (NaNs and infinities included) widened as the IEEE field decoding
// above gives it, on one thread and split, and a tensor above a task's size split over tasks.
TEST(Kernels, WidenedFloat16IsExactForEveryBitPattern) {
  IsaGuard guard;
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  const at::Tensor half =
      at::from_blob(all.data(), {256, 256}, at::TensorOptions().dtype(at::kHalf)).clone();
  for (Isa isa : isasOfThisCpu()) {
    kvs::kernels::useIsa(isa);
    const at::Tensor odd = at::randn({5, 13}).to(at::kHalf);  // 65: a scalar tail after 8 x 8
    EXPECT_TRUE(at::equal(kvs::kernels::widenToFloat(odd), odd.to(at::kFloat)));
    const at::Tensor wide = kvs::kernels::widenToFloat(half);
    ASSERT_EQ(at::kFloat, wide.scalar_type());
    const float* w = wide.data_ptr<float>();
    for (int i = 0; i < 65536; ++i) {
      const int exponent = (i >> 10) & 31;
      if (exponent == 31 && (i & 1023)) {
        ASSERT_TRUE(std::isnan(w[i])) << i;
      } else if (exponent == 31) {
        ASSERT_EQ(w[i], (i >> 15) ? -INFINITY : INFINITY) << i;
      } else {
        ASSERT_EQ(static_cast<double>(w[i]), halfToDouble(static_cast<uint16_t>(i))) << i;
      }
    }
  }
  kvs::kernels::setPoolThreads(2);
  const at::Tensor big = at::randn({(3 << 21) + 5}).to(at::kHalf);  // three tasks and 5 more
  EXPECT_TRUE(at::equal(kvs::kernels::widenToFloat(big), big.to(at::kFloat)));
}

}  // namespace
