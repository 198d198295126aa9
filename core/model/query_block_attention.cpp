#include "model/query_block_attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "kernels/softmax_rows.h"
#include "model/layer_observer.h"

namespace kvs {

int64_t queryBlockRows(int64_t Hq, int64_t Tk) {
  return std::max<int64_t>(1, kScoreBlockBytes / (Hq * std::max<int64_t>(Tk, 1) * 4));
}

at::Tensor queryBlockAttention(const at::Tensor& q, const at::Tensor& keys,
                               const at::Tensor& values, const at::Tensor& mask, double scale,
                               int layer, LayerObserver* observer) {
  const int64_t n = q.size(0), Hq = q.size(1), D = q.size(2);
  const int64_t Hkv = keys.size(0), Tk = keys.size(1), G = Hq / Hkv;
  const int64_t past = Tk - n;  // slots before the pending tokens' (the longest head's)
  const int64_t rows = std::min(n, queryBlockRows(Hq, Tk));
  const bool wantsAttention = observer && observer->wantsAttention();
  at::Tensor merged = at::empty({n, Hq * D}, q.options());  // [n, Hq*D]
  std::vector<at::Tensor> attention, outputs;  // per block [Hkv, G, b, Tk] and [Hkv, G, b, D]
  for (int64_t first = 0; first < n; first += rows) {
    const int64_t b = std::min(rows, n - first);
    const int64_t visible = past + first + b;  // columns any query of the block may see
    // Query head h uses KV head h / G, so the G heads of a group are contiguous in q.
    const at::Tensor qg = q.narrow(0, first, b)
                              .view({b, Hkv, G, D})
                              .permute({1, 2, 0, 3})
                              .reshape({Hkv, G * b, D});  // rows g*b + i
    const at::Tensor k = keys.narrow(1, 0, visible), v = values.narrow(1, 0, visible);
    at::Tensor scores;  // [Hkv, G*b, visible]
    if (mask.defined()) {
      // The block's rows of the mask, g*n + first + i -> g*b + i, and its visible columns.
      const at::Tensor m = mask.view({mask.size(0), G, n, Tk})
                               .narrow(2, first, b)
                               .narrow(3, 0, visible)
                               .reshape({mask.size(0), G * b, visible});
      scores = at::baddbmm(m, qg, k.transpose(1, 2), 1.0, scale);
    } else {
      scores = at::bmm(qg, k.transpose(1, 2)).mul_(scale);
    }
    const at::Tensor probsF = kernels::softmaxRows(scores);  // float32
    if (wantsAttention) {  // columns past `visible` are hidden from the block: probability 0
      attention.push_back(at::constant_pad_nd(probsF, {0, Tk - visible}).view({Hkv, G, b, Tk}));
    }
    const at::Tensor out = at::bmm(probsF.to(q.scalar_type()), v);  // [Hkv, G*b, D]
    if (observer) outputs.push_back(out.view({Hkv, G, b, D}));
    merged.narrow(0, first, b)
        .copy_(out.view({Hkv, G, b, D}).permute({2, 0, 1, 3}).reshape({b, Hq * D}));
  }
  if (wantsAttention) {
    observer->onTensor(layer, "attn", at::cat(attention, 2).view({Hq, n, Tk}));
  }
  if (observer) observer->onTensor(layer, "attn_out", at::cat(outputs, 2).view({Hq, n, D}));
  return merged;
}

}  // namespace kvs
