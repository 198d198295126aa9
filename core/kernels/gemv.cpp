#include "kernels/gemv.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/causal_attention.h"
#include "kernels/gemv_rows.h"
#include "kernels/worker_pool.h"
#include "util/blas_info.h"
#include "util/error.h"

namespace kvs::kernels {
namespace {

// Below this many weights a matrix is done on the calling thread: waking a worker costs more
// than the work (stories260K's largest matrix has 32,768).
constexpr int64_t kThreadedMinElements = int64_t{1} << 16;
// Rows per task are a multiple of this (the loops take four rows at a time).
constexpr int64_t kRowAlign = 16;

bool cpuHas(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kPlain:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && cpuHas(Isa::kAvx2);
    case Isa::kAvx512Bf16:
      return __builtin_cpu_supports("avx512bf16") && cpuHas(Isa::kAvx512);
  }
  return false;
}

std::string kernelsVariable() {
  const char* env = std::getenv("KVS_KERNELS");
  return env ? env : "";
}

// KVS_KERNELS=plain|avx2|avx512 caps the loops below what the CPU has, and KVS_KERNELS=libtorch
// leaves one-token projections to LibTorch as before these loops (to compare them, or to rule them
// out when something looks wrong); an unknown name or a set the CPU lacks is an error.
Isa initialIsa() {
  const Isa best = bestIsa();
  const std::string name = kernelsVariable();
  if (name.empty() || name == "libtorch") return best;
  const Isa asked = name == "plain"        ? Isa::kPlain
                    : name == "avx2"       ? Isa::kAvx2
                    : name == "avx512"     ? Isa::kAvx512
                    : name == "avx512bf16" ? Isa::kAvx512Bf16
                                           : throw KvsError("KVS_KERNELS=" + name +
                                                            " is not plain, avx2, avx512, "
                                                            "avx512bf16 or libtorch");
  require(cpuHas(asked), "KVS_KERNELS=" + name + ": this CPU lacks " + isaName(asked) +
                             " (it has " + isaName(best) + ")");
  return asked;
}

std::atomic<Isa>& active() {
  static std::atomic<Isa> isa{initialIsa()};
  return isa;
}

void rowsOn(Isa isa, const MatvecJob& job, int64_t begin, int64_t end) {
  // Rows shorter than a vector (attention's scores with head dim 8, stories260K's) in scalar
  // code: each SIMD row ends in a horizontal sum that costs more than the row itself (the AVX
  // loops made 23% of a stories260K decode step at 500 tokens, the plain loop 6%).
  if (job.in < 16 && !job.xBf16) return matvecRowsPlain(job, begin, end);
  switch (isa) {
    case Isa::kAvx512Bf16:
      return job.xBf16 ? matvecRowsAvx512Bf16(job, begin, end) : matvecRowsAvx512(job, begin, end);
    case Isa::kAvx512:
      return matvecRowsAvx512(job, begin, end);
    case Isa::kAvx2:
      return matvecRowsAvx2(job, begin, end);
    case Isa::kPlain:
      return matvecRowsPlain(job, begin, end);
  }
}

// Rows are dealt in chunks from a shared counter rather than in one block per thread: on these
// shared VMs a thread is often descheduled for part of a matvec, and with fixed halves the other
// waited for it (13% of a 110M decode step was spent spinning in the pool).
struct Split {
  const MatvecJob* job;
  Isa isa;
  int64_t out, rowsPerChunk, chunks;
  std::atomic<int64_t> next{0};
};

void runTask(int, void* context) {
  Split& s = *static_cast<Split*>(context);
  for (int64_t c = s.next.fetch_add(1, std::memory_order_relaxed); c < s.chunks;
       c = s.next.fetch_add(1, std::memory_order_relaxed)) {
    const int64_t begin = c * s.rowsPerChunk;
    rowsOn(s.isa, *s.job, begin, std::min(s.out, begin + s.rowsPerChunk));
  }
}

}  // namespace

Isa bestIsa() {
  static const Isa best = cpuHas(Isa::kAvx512Bf16) ? Isa::kAvx512Bf16
                          : cpuHas(Isa::kAvx512)   ? Isa::kAvx512
                          : cpuHas(Isa::kAvx2)     ? Isa::kAvx2
                                                   : Isa::kPlain;
  return best;
}

Isa activeIsa() {
  return active().load(std::memory_order_relaxed);
}

void useIsa(Isa isa) {
  require(cpuHas(isa), "this CPU lacks " + isaName(isa) + " (it has " + isaName(bestIsa()) + ")");
  active().store(isa, std::memory_order_relaxed);
}

std::string isaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16:
      return "AVX-512 BF16";
    case Isa::kAvx512:
      return "AVX-512";
    case Isa::kAvx2:
      return "AVX2";
    case Isa::kPlain:
      return "plain C++";
  }
  return "?";
}

namespace {

// isa read once by the caller: a job with xBf16 set must reach the loops it was made for.
void runJob(const MatvecJob& job, int64_t out, Isa isa) {
  const int threads = poolThreads();
  const int64_t in = job.in;
  const WeightType type = job.type;
  if (threads == 1 || out * in < kThreadedMinElements || out < 2 * kRowAlign) {
    rowsOn(isa, job, 0, out);
    return;
  }
  // About eight chunks per thread, each a multiple of kRowAlign rows (and at least 64 KB).
  const int64_t rowBytes = std::max<int64_t>(1, in * (type == WeightType::kFloat32 ? 4 : 2));
  int64_t rowsPerChunk =
      std::max<int64_t>((out + 8 * threads - 1) / (8 * threads), (int64_t{64} << 10) / rowBytes);
  rowsPerChunk = (rowsPerChunk + kRowAlign - 1) / kRowAlign * kRowAlign;
  Split split{&job, isa, out, rowsPerChunk, (out + rowsPerChunk - 1) / rowsPerChunk};
  runOnPool(static_cast<int>(std::min<int64_t>(threads, split.chunks)), runTask, &split);
}

}  // namespace

void matvecRaw(const void* w, WeightType type, int64_t out, int64_t in, int64_t ld, const float* x,
               float* y) {
  runJob(MatvecJob{w, type, in, ld, x, y}, out, activeIsa());
}

void matvecRawBf16(const uint16_t* w, int64_t out, int64_t in, int64_t ld, const uint16_t* x,
                   float* y) {
  const Isa isa = activeIsa();
  if (isa == Isa::kAvx512Bf16) {
    MatvecJob job{w, WeightType::kBFloat16, in, ld, nullptr, y};
    job.xBf16 = x;
    return runJob(job, out, isa);
  }
  std::vector<float> xf(static_cast<size_t>(in));  // [in]: bfloat16 is float32's high half
  for (int64_t k = 0; k < in; ++k) {
    const uint32_t bits = uint32_t{x[k]} << 16;
    std::memcpy(&xf[k], &bits, sizeof(float));
  }
  matvecRaw(w, WeightType::kBFloat16, out, in, ld, xf.data(), y);
}

WeightType weightTypeOf(at::ScalarType t) {
  return t == at::kBFloat16 ? WeightType::kBFloat16
         : t == at::kHalf   ? WeightType::kFloat16
                            : WeightType::kFloat32;
}

void matvecSerial(const void* w, WeightType type, int64_t out, int64_t in, int64_t ld,
                  const float* x, float* y) {
  rowsOn(activeIsa(), MatvecJob{w, type, in, ld, x, y}, 0, out);
}

void weightedRowsSerial(const void* w, WeightType type, int64_t rows, int64_t cols, int64_t ld,
                        const float* p, float* y) {
  switch (activeIsa()) {
    case Isa::kAvx512Bf16:
    case Isa::kAvx512:
      return weightedRowsAvx512(w, type, rows, cols, ld, p, y);
    case Isa::kAvx2:
      return weightedRowsAvx2(w, type, rows, cols, ld, p, y);
    case Isa::kPlain:
      return weightedRowsPlain(w, type, rows, cols, ld, p, y);
  }
}

bool matvecEnabled() {
  static const bool enabled = kernelsVariable() != "libtorch";
  return enabled;
}

bool matvecHandles(const at::Tensor& w, const at::Tensor& x) {
  if (!matvecEnabled()) return false;
  const at::ScalarType wt = w.scalar_type(), xt = x.scalar_type();
  return w.device().is_cpu() && x.device().is_cpu() && w.dim() == 2 && x.dim() == 1 &&
         x.size(0) == w.size(1) && w.stride(1) == 1 &&
         (wt == at::kFloat || wt == at::kBFloat16 || wt == at::kHalf) &&
         (xt == at::kFloat || xt == at::kBFloat16);
}

at::Tensor matvec(const at::Tensor& w, const at::Tensor& x) {
  require(matvecHandles(w, x),
          "matvec: unsupported weight or input (a CPU [out, in] float "
          "matrix with unit column stride and an [in] vector)");
  if (w.scalar_type() == at::kBFloat16 && x.scalar_type() == at::kBFloat16) {
    const at::Tensor xc = x.contiguous();                                  // [in]
    at::Tensor y = at::empty({w.size(0)}, x.options().dtype(at::kFloat));  // [out]
    matvecRawBf16(static_cast<const uint16_t*>(w.data_ptr()), w.size(0), w.size(1), w.stride(0),
                  static_cast<const uint16_t*>(xc.data_ptr()), y.data_ptr<float>());
    return y.to(at::kBFloat16);
  }
  const at::Tensor xf = x.to(at::kFloat).contiguous();  // [in]
  at::Tensor y = at::empty({w.size(0)}, xf.options());  // [out]
  matvecRaw(w.data_ptr(), weightTypeOf(w.scalar_type()), w.size(0), w.size(1), w.stride(0),
            xf.data_ptr<float>(), y.data_ptr<float>());
  return x.scalar_type() == at::kFloat ? y : y.to(x.scalar_type());
}

namespace {

// The loops one dtype's one-token projections run on: AVX-512 BF16 differs only for bfloat16.
std::string loopsFor(WeightType type) {
  const Isa isa = activeIsa();
  return isaName(isa == Isa::kAvx512Bf16 && type != WeightType::kBFloat16 ? Isa::kAvx512 : isa);
}

}  // namespace

std::string describeMatvec() {
  if (!matvecEnabled()) return "LibTorch for one-token projections (KVS_KERNELS=libtorch)";
  const int threads = poolThreads();
  const std::string bf16 = loopsFor(WeightType::kBFloat16), rest = loopsFor(WeightType::kFloat32);
  return rest + " matvec on " + std::to_string(threads) + (threads == 1 ? " thread" : " threads") +
         (bf16 == rest ? " (float32, bfloat16, float16 weights)"
                       : " (float32, float16 weights; bfloat16 by " + bf16 + " dot products)");
}

std::vector<std::string> describeMatmulPaths() {
  const std::string one = matvecEnabled() ? loopsFor(WeightType::kFloat32) + " matvec" : "LibTorch";
  const std::string bf16 =
      matvecEnabled() ? loopsFor(WeightType::kBFloat16) + " matvec" : "LibTorch";
  const std::string threads = " (" + std::to_string(poolThreads()) + " threads)";
  const std::string blas = describeBlas(detectBlas());
  // Several float32 tokens on an AVX-512 CPU: kernels/row_split_linear.h (and the fused attention
  // rows of kernels/causal_attention.h, which also take a bfloat16 prompt's attention).
  const bool split = causalAttentionAvailable();
  const std::string several =
      split ? "row parts over the pool" + threads + ", each one-thread sgemm of " + blas
            : "at::linear, " + blas;
  return {"float32: one token " + (matvecEnabled() ? one + threads : "at::mv, " + blas) +
              "; several tokens " + several,
          "bfloat16: one token " + (matvecEnabled() ? bf16 + threads : "at::linear (oneDNN)") +
              "; several tokens at::linear, oneDNN on LibTorch's OpenMP pool" + threads,
          "float16 (float32 compute on the CPU): one token " +
              (matvecEnabled() ? one + " reading float16" + threads
                               : "a float32 copy of the matrix, then at::mv") +
              "; several tokens a float32 copy of the matrix per call (F16C over the pool), then " +
              several};
}

}  // namespace kvs::kernels
