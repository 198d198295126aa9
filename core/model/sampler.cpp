#include "model/sampler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace kvs {

int argmax(const float* values, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

Sampler::Sampler(SamplerParams params) : params_(params), rng_(params.seed) {
  require(std::isfinite(params.temperature) && params.temperature >= 0,
          "temperature must be >= 0 (0 = greedy), got " + std::to_string(params.temperature));
  require(params.topP > 0 && params.topP <= 1,
          "top-p must be in (0, 1], got " + std::to_string(params.topP));
}

int Sampler::sample(const at::Tensor& logits) {
  const at::Tensor cpu = logits.to(at::kCPU, at::kFloat).contiguous();
  TORCH_CHECK(cpu.dim() == 1, "Sampler expects logits [V]");
  return sample(cpu.data_ptr<float>(), static_cast<int>(cpu.size(0)));
}

int Sampler::sample(const float* logits, int vocab) {
  for (int i = 0; i < vocab; ++i) {
    require(std::isfinite(logits[i]),
            "the model produced a non-finite logit (NaN or infinity) for token " +
                std::to_string(i) + "; the checkpoint's weights are probably corrupt");
  }
  if (params_.temperature == 0.0f) return argmax(logits, vocab);

  // Softmax of logits / temperature, in double for a stable cumulative sum.
  const float maxLogit = logits[argmax(logits, vocab)];
  scratch_.resize(vocab);
  double total = 0;
  for (int i = 0; i < vocab; ++i) {
    const double p = std::exp((logits[i] - maxLogit) / double(params_.temperature));
    scratch_[i] = {static_cast<float>(p), i};
    total += p;
  }
  int candidates = vocab;
  double mass = total;
  if (params_.topP < 1.0f) {
    // Smallest set of most probable tokens whose mass reaches top-p (ties: lower id first).
    std::sort(scratch_.begin(), scratch_.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    mass = 0;
    candidates = 0;
    while (candidates < vocab) {
      mass += scratch_[candidates++].first;
      if (mass >= params_.topP * total) break;
    }
  }
  const double r = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  double cumulative = 0;
  for (int i = 0; i < candidates; ++i) {
    cumulative += scratch_[i].first;
    if (r < cumulative) return scratch_[i].second;
  }
  return scratch_[candidates - 1].second;  // rounding at the top end
}

}  // namespace kvs
