#pragma once
// Rotary position embedding with precomputed tables, in both pairings (see RopeStyle).

#include <ATen/core/Tensor.h>

#include <vector>

#include "model/model_config.h"

namespace kvs {

// RoPE's inverse frequencies theta^(-2i/D), i = 0 .. D/2-1, in float32, then, with llama3
// scaling, rescaled by wavelength 2 pi / f as Hugging Face's _compute_llama3_parameters does:
// wavelengths below original / highFreqFactor kept, above original / lowFreqFactor divided by
// factor, and in between a blend f * ((1 - s) / factor + s), s = (original / wavelength - low) /
// (high - low). All in float32, as there, so the angles match a transformers run.
std::vector<float> ropeInverseFrequencies(int headDim, float theta,
                                          const RopeScaling& scaling = {});

class RotaryEmbedding {
 public:
  // Angles as llama2.c computes them, in float32: pos * f_i with f_i = theta^(-2i/D),
  // i = 0 .. D/2-1, rescaled when scaling is enabled (ropeInverseFrequencies).
  RotaryEmbedding(int headDim, int maxPositions, float theta, RopeStyle style,
                  at::Device device = at::kCPU, const RopeScaling& scaling = {});

  // x: [T, H, D] (last dim contiguous), tokens at positions start .. start+T-1.
  // Returns the rotated tensor, [T, H, D], contiguous.
  at::Tensor apply(const at::Tensor& x, int64_t start) const;
  // x: [T, H, D] rotated by the same delta positions (negative: back), e.g. to move a key rotated
  // at position p to position p + delta. Returns [T, H, D], contiguous.
  at::Tensor rotate(const at::Tensor& x, int64_t delta) const;

  RopeStyle style() const { return style_; }
  // The table's row for one position on the CPU: D/2 pairs (cos, sin) of float32.
  const float* cosSinAt(int64_t pos) const;
  int maxPositions() const { return maxPositions_; }
  int headDim() const { return headDim_; }

 private:
  RopeStyle style_;
  int headDim_;
  int maxPositions_;
  at::Tensor table_;  // complex64 [maxPositions, 1, D/2]: cos + i sin
};

// x [T, H, D] (any head dim D) turned by `delta` positions, negative included, with the angles
// of one position computed directly (no table): what a cache needs to move kept keys.
at::Tensor rotateByDelta(const at::Tensor& x, int64_t delta, float theta, RopeStyle style,
                         const RopeScaling& scaling = {});

// Reorders the rows of a q or k projection [H*D, C] from adjacent-pair to half-split RoPE, as
// Hugging Face's conversion script does: row (h, 2i + b) moves to (h, b*D/2 + i).
at::Tensor permuteForHalfSplit(const at::Tensor& w, int nHeads);

// The inverse: Hugging Face layout back to adjacent pairs.
at::Tensor permuteForAdjacentPairs(const at::Tensor& w, int nHeads);

}  // namespace kvs
