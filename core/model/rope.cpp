#include "model/rope.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "util/error.h"

namespace kvs {
namespace {

// x [T, H, D] times angles [T or 1, 1, D/2] (complex), in the style's pairing.
at::Tensor rotateBy(const at::Tensor& x, const at::Tensor& angles, RopeStyle style) {
  const int64_t T = x.size(0), H = x.size(1), D = x.size(2), half = D / 2;
  if (style == RopeStyle::kAdjacentPairs) {
    // [T, H, D] -> [T, H, D/2] complex (pairs 2i, 2i+1), rotate, back.
    const at::Tensor z = at::view_as_complex(x.contiguous().view({T, H, half, 2}));
    return at::view_as_real(z * angles).view({T, H, D});
  }
  // Half-split: pairs (i, i + D/2); gather them into adjacent pairs, rotate, scatter back.
  const at::Tensor pairs = x.reshape({T, H, 2, half}).transpose(2, 3).contiguous();
  const at::Tensor rotated = at::view_as_real(at::view_as_complex(pairs) * angles);
  return rotated.transpose(2, 3).contiguous().view({T, H, D});
}

}  // namespace

std::vector<float> ropeInverseFrequencies(int headDim, float theta, const RopeScaling& scaling) {
  const int half = headDim / 2;
  std::vector<float> freqs(half);
  for (int i = 0; i < half; ++i) {
    freqs[i] = 1.0f / std::pow(theta, static_cast<float>(2 * i) / headDim);
  }
  if (!scaling.enabled()) return freqs;
  const float original = static_cast<float>(scaling.originalMaxPositions);
  const float low = scaling.lowFreqFactor, high = scaling.highFreqFactor;
  const float longest = original / low;    // wavelengths above: divided by factor
  const float shortest = original / high;  // wavelengths below: kept
  constexpr float kTwoPi = static_cast<float>(2.0 * M_PI);
  for (float& f : freqs) {
    const float wavelength = kTwoPi / f;
    if (wavelength > longest) {
      f /= scaling.factor;
    } else if (!(wavelength < shortest)) {
      const float s = (original / wavelength - low) / (high - low);
      f = (1 - s) * f / scaling.factor + s * f;
    }
  }
  return freqs;
}

RotaryEmbedding::RotaryEmbedding(int headDim, int maxPositions, float theta, RopeStyle style,
                                 at::Device device, const RopeScaling& scaling)
    : style_(style), headDim_(headDim), maxPositions_(maxPositions) {
  require(headDim % 2 == 0 && headDim > 0, "RoPE needs an even head dim");
  const int half = headDim / 2;
  const std::vector<float> freqs = ropeInverseFrequencies(headDim, theta, scaling);
  std::vector<float> cosSin(static_cast<size_t>(maxPositions) * half * 2);
  for (int pos = 0; pos < maxPositions; ++pos) {
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(pos) * freqs[i];
      cosSin[(static_cast<size_t>(pos) * half + i) * 2] = std::cos(angle);
      cosSin[(static_cast<size_t>(pos) * half + i) * 2 + 1] = std::sin(angle);
    }
  }
  table_ = at::view_as_complex(at::from_blob(cosSin.data(), {maxPositions, 1, half, 2}, at::kFloat))
               .clone()
               .to(device);
}

at::Tensor RotaryEmbedding::apply(const at::Tensor& x, int64_t start) const {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == headDim_, "RoPE input must be [T, H, D]");
  const int64_t T = x.size(0);
  TORCH_CHECK(start >= 0 && start + T <= maxPositions_, "RoPE position out of range");
  return rotateBy(x, table_.narrow(0, start, T), style_);  // angles [T, 1, D/2]
}

const float* RotaryEmbedding::cosSinAt(int64_t pos) const {
  TORCH_CHECK(table_.device().is_cpu() && pos >= 0 && pos < maxPositions_,
              "RoPE table row out of range or not on the CPU");
  return reinterpret_cast<const float*>(table_.data_ptr<c10::complex<float>>()) +
         pos * headDim_;  // D/2 complex numbers per position
}

at::Tensor RotaryEmbedding::rotate(const at::Tensor& x, int64_t delta) const {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == headDim_, "RoPE input must be [T, H, D]");
  TORCH_CHECK(std::abs(delta) < maxPositions_, "RoPE rotation out of range");
  const at::Tensor angle = table_.narrow(0, std::abs(delta), 1);  // [1, 1, D/2]
  return rotateBy(x, delta < 0 ? angle.conj().resolve_conj() : angle, style_);
}

at::Tensor rotateByDelta(const at::Tensor& x, int64_t delta, float theta, RopeStyle style,
                         const RopeScaling& scaling) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) % 2 == 0, "RoPE input must be [T, H, D], D even");
  const int64_t D = x.size(2), half = D / 2;
  // The same float32 arithmetic as the table: angle = float(pos) * f_i.
  const std::vector<float> freqs = ropeInverseFrequencies(static_cast<int>(D), theta, scaling);
  std::vector<float> cosSin(half * 2);
  for (int64_t i = 0; i < half; ++i) {
    const float freq = freqs[i];
    const float angle = static_cast<float>(std::abs(delta)) * freq * (delta < 0 ? -1.0f : 1.0f);
    cosSin[2 * i] = std::cos(angle);
    cosSin[2 * i + 1] = std::sin(angle);
  }
  const at::Tensor angles =
      at::view_as_complex(at::from_blob(cosSin.data(), {1, 1, half, 2}, at::kFloat).clone())
          .to(x.device());  // [1, 1, D/2]
  return rotateBy(x, angles, style);
}

at::Tensor permuteForHalfSplit(const at::Tensor& w, int nHeads) {
  const int64_t rows = w.size(0), cols = w.size(1), d = rows / nHeads;
  return w.view({nHeads, d / 2, 2, cols}).transpose(1, 2).reshape({rows, cols});
}

at::Tensor permuteForAdjacentPairs(const at::Tensor& w, int nHeads) {
  const int64_t rows = w.size(0), cols = w.size(1), d = rows / nHeads;
  return w.view({nHeads, 2, d / 2, cols}).transpose(1, 2).reshape({rows, cols});
}

}  // namespace kvs
