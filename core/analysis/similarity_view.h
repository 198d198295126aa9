#pragma once
// The [T, T] matrices the heatmap shows, computed from a kept prefill and handed out as plain
// floats (row-major), so they can cross into the UI: cosine similarity of keys after RoPE, keys
// before RoPE or values of one KV head (or the mean of the heads' matrices), or the softmax
// attention of one query head (or the mean over query heads).

#include <string>
#include <vector>

namespace kvs {

struct PrefillState;

enum class SimilaritySource { kKeys, kKeysPreRope, kValues, kAttention };
const char* toString(SimilaritySource s);

struct SimilarityMatrix {
  SimilaritySource source = SimilaritySource::kKeys;
  int layer = 0;
  int head = -1;  // KV head (query head for attention); -1 = mean over heads
  int tokens = 0;
  std::vector<float> values;  // [tokens, tokens], row-major: values[i * tokens + j]
};

// KvsError when layer/head are out of range or the attention was not kept.
SimilarityMatrix similarityMatrix(const PrefillState& state, SimilaritySource source, int layer,
                                  int head);

// A thumbnail: the same matrix over at most n tokens picked at an even stride (cheap at any T).
SimilarityMatrix similarityThumbnail(const PrefillState& state, SimilaritySource source, int layer,
                                     int head, int n);

}  // namespace kvs
