#pragma once
// Chooses the next token from logits: greedy, temperature, nucleus (top-p); seeded.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>
#include <vector>

namespace kvs {

struct SamplerParams {
  float temperature = 1.0f;  // 0 = greedy argmax (lowest index on ties)
  float topP = 0.9f;         // nucleus mass in (0, 1]; 1 = sample from the full distribution
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerParams params);  // KvsError on out-of-range parameters

  // logits: [V] on any device. Returns the chosen token id.
  int sample(const at::Tensor& logits);

  // The same on a plain array (exposed for tests).
  int sample(const float* logits, int vocab);

  const SamplerParams& params() const { return params_; }

 private:
  SamplerParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int>> scratch_;  // (probability, id)
};

// Index of the largest value; the lowest index wins ties (as llama2.c's argmax).
int argmax(const float* values, int n);

}  // namespace kvs
