#pragma once
// A plain-loop reference of the Hugging Face forward pass of the Llama-like families, in double
// precision, written from transformers' definitions and reading nothing but the folder: the
// config.json fields (parsed here, not by readHfConfig) and the tensors by their Hugging Face
// names. One token at a time, rotate-half RoPE; each family's differences are spelled out:
// llama3 RoPE scaling, q/k/v biases (Qwen2), q/k RMSNorm and a separate head_dim (Qwen3),
// the sliding window (Mistral), tied embeddings. LlamaModel is checked against it.

#include <string>
#include <vector>

namespace kvs::test {

// What the reference leaves out, to show that a test notices each difference.
struct ReferenceDrops {
  bool ropeScaling = false;
  bool qkvBias = false;
  bool qkNorm = false;
  bool slidingWindow = false;
};

struct ReferenceResult {
  std::vector<std::vector<double>> logits;             // [n][V]
  std::vector<std::vector<std::vector<double>>> keys;  // [L][n][Hkv * D], after q/k norm and RoPE
};

// The forward pass of tokens at positions 0 .. n-1.
ReferenceResult referenceForward(const std::string& folder, const std::vector<int>& tokens,
                                 const ReferenceDrops& drops = {});

}  // namespace kvs::test
