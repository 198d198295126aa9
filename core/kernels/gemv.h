#pragma once
// One-token projections (decode): y = W x for a weight matrix in float32, bfloat16 or float16.
// Decode reads every weight once per token, so its speed is the bandwidth these loops reach.
// Measured on the 110M model's matrices (2 threads), against what LibTorch 1.13 calls: OpenBLAS's
// sgemv streams about 16 GB/s, LibTorch's bfloat16 linear (oneDNN on one OpenMP thread) 7-15,
// and float16 weights were widened to float32 matrix by matrix on every call. These rows are
// split over kernels/worker_pool.h and read each weight as stored, widened in registers.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kvs::kernels {

// The instruction sets the loops are written for, chosen at run time from what the CPU has, in
// increasing order. kAvx512Bf16 differs from kAvx512 only for a bfloat16 W times a bfloat16 x
// (matvecRawBf16); everything else runs the AVX-512 loops under it.
enum class Isa { kPlain, kAvx2, kAvx512, kAvx512Bf16 };
Isa bestIsa();                 // the widest this CPU runs
Isa activeIsa();               // the one matvec uses: bestIsa(), unless capped below
void useIsa(Isa isa);          // caps it (tests, benchmarks); KvsError if the CPU lacks it
std::string isaName(Isa isa);  // "AVX-512 BF16", "AVX-512", "AVX2", "plain C++"

enum class WeightType { kFloat32, kBFloat16, kFloat16 };

// The raw loop: y[out] = sum_k W[r, k] * x[k] for rows [0, out) of a row-major W (row stride
// ld elements), x and y float32, accumulated in float32. Large matrices are split over the pool.
void matvecRaw(const void* w, WeightType type, int64_t out, int64_t in, int64_t ld, const float* x,
               float* y);

// matvecRaw for a bfloat16 W (as uint16_t bits) and an x whose values are bfloat16 (a bfloat16
// model's activations): under kAvx512Bf16 each pair of products is one vdpbf16ps lane (exact
// products, float32 sums in another order, subnormals flushed); under the others x is widened to
// float32 and matvecRaw runs.
void matvecRawBf16(const uint16_t* w, int64_t out, int64_t in, int64_t ld, const uint16_t* x,
                   float* y);

// matvecRaw on the calling thread only (for callers already running on the pool).
void matvecSerial(const void* w, WeightType type, int64_t out, int64_t in, int64_t ld,
                  const float* x, float* y);
// y[cols] = sum_r p[r] * W[r, 0:cols] (W^T p) for rows [0, rows) of a row-major W, on the calling
// thread: decode attention's weighted values, one head at a time.
void weightedRowsSerial(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                        const float* p, float* y);
WeightType weightTypeOf(at::ScalarType type);  // float32 for anything but bfloat16 and float16

// False under KVS_KERNELS=libtorch (one-token projections left to LibTorch, for comparison).
bool matvecEnabled();
// True when matvec takes this pair (and matvecEnabled()): a CPU weight [out, in] in float32,
// bfloat16 or float16 with unit column stride, and x [in] on the CPU in float32 or bfloat16.
bool matvecHandles(const at::Tensor& w, const at::Tensor& x);
// w [out, in], x [in] -> [out] in x's dtype (float32 accumulation, rounded once at the end).
at::Tensor matvec(const at::Tensor& w, const at::Tensor& x);

// For `info` and the benchmarks: "AVX-512 matvec on 2 threads (float32, bfloat16, float16)".
std::string describeMatvec();

// Which code each weight dtype's projections run on, one line per dtype, for `info` and the
// benchmarks: "bfloat16: one token AVX-512 matvec (2 threads); several oneDNN (LibTorch, ...)".
std::vector<std::string> describeMatmulPaths();

}  // namespace kvs::kernels
