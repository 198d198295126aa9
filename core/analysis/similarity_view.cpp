#include "analysis/similarity_view.h"

#include <ATen/ATen.h>

#include "analysis/similarity.h"
#include "session/prefill_state.h"
#include "util/error.h"

namespace kvs {
namespace {

// [H, T, D] (or [Hq, T, T] for attention) of the source in one layer.
at::Tensor sourceTensor(const PrefillState& s, SimilaritySource source, int layer) {
  const int T = s.tokens();
  switch (source) {
    case SimilaritySource::kKeys:
      return s.cache().keys(layer).narrow(1, 0, T);
    case SimilaritySource::kKeysPreRope:
      return s.keysPreRope.at(layer);
    case SimilaritySource::kValues:
      return s.cache().values(layer).narrow(1, 0, T);
    case SimilaritySource::kAttention:
      require(!s.attention.empty(),
              "the attention matrices were not kept for this prompt (too large); choose keys or "
              "values");
      return s.attention.at(layer);
  }
  return {};
}

// rows: token indices used; [n, n] result of one head.
at::Tensor headMatrix(const at::Tensor& x, SimilaritySource source, const at::Tensor& rows) {
  if (source == SimilaritySource::kAttention) return x.index_select(0, rows).index_select(1, rows);
  return cosineSimilarityMatrix(x.index_select(0, rows));
}

SimilarityMatrix compute(const PrefillState& s, SimilaritySource source, int layer, int head,
                         const at::Tensor& rows) {
  require(layer >= 0 && layer < s.cache().nLayers(),
          "layer " + std::to_string(layer) + " does not exist");
  const at::Tensor x = sourceTensor(s, source, layer).to(at::kCPU, at::kFloat);
  const int H = static_cast<int>(x.size(0));
  require(head >= -1 && head < H, "head " + std::to_string(head) + " does not exist");
  at::Tensor m;
  if (head >= 0) {
    m = headMatrix(x[head], source, rows);
  } else {
    m = headMatrix(x[0], source, rows);
    for (int h = 1; h < H; ++h) m = m + headMatrix(x[h], source, rows);
    m = m / H;
  }
  m = m.contiguous();
  SimilarityMatrix out{source, layer, head, static_cast<int>(rows.size(0)), {}};
  out.values.assign(m.data_ptr<float>(), m.data_ptr<float>() + m.numel());
  return out;
}

}  // namespace

const char* toString(SimilaritySource s) {
  switch (s) {
    case SimilaritySource::kKeys:
      return "keys";
    case SimilaritySource::kKeysPreRope:
      return "keys-prerope";
    case SimilaritySource::kValues:
      return "values";
    case SimilaritySource::kAttention:
      return "attention";
  }
  return "?";
}

SimilarityMatrix similarityMatrix(const PrefillState& state, SimilaritySource source, int layer,
                                  int head) {
  return compute(state, source, layer, head, at::arange(state.tokens(), at::kLong));
}

SimilarityMatrix similarityThumbnail(const PrefillState& state, SimilaritySource source, int layer,
                                     int head, int n) {
  const int T = state.tokens();
  n = std::max(1, std::min(n, T));
  const at::Tensor rows = at::floor(at::arange(n, at::kDouble) * (double(T) / n)).to(at::kLong);
  return compute(state, source, layer, head, rows);
}

}  // namespace kvs
