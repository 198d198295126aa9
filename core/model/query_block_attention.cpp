#include "model/query_block_attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/causal_attention.h"
#include "kernels/softmax_rows.h"
#include "model/layer_observer.h"

namespace kvs {

namespace {

// keys or values [Hkv, Tk, D] -> [Hkv, D, ld] float32, ld = Tk rounded up to 16, zeros past Tk.
at::Tensor transposedColumns(const at::Tensor& rows, int64_t ld) {
  at::Tensor t = at::zeros({rows.size(0), rows.size(2), ld}, rows.options().dtype(at::kFloat));
  t.narrow(2, 0, rows.size(1)).copy_(rows.transpose(1, 2));
  return t;
}

// The same attention in kernels/causal_attention.h's fused rows (float32 arithmetic, AVX-512).
// q, mask float32; keys, values float32 or bfloat16 (widened as they are transposed); the result
// (and what the observer sees as "attn_out") in resultType.
at::Tensor fusedRowAttention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                             const at::Tensor& mask, double scale, int layer,
                             LayerObserver* observer, at::ScalarType resultType) {
  // The loops index raw buffers by these sizes: shapes LibTorch's matmuls would refuse are
  // refused here rather than read past.
  TORCH_CHECK(q.dim() == 3 && keys.dim() == 3 && values.sizes() == keys.sizes() &&
                  keys.size(2) == q.size(2) && keys.size(0) > 0 && q.size(1) % keys.size(0) == 0 &&
                  keys.size(1) >= q.size(0),
              "queryBlockAttention: q [n, Hq, D] over keys and values [Hkv, Tk >= n, D], Hq a "
              "multiple of Hkv, expected; got q ",
              q.sizes(), ", keys ", keys.sizes(), ", values ", values.sizes());
  const int64_t n = q.size(0), Hq = q.size(1), D = q.size(2);
  const int64_t Hkv = keys.size(0), Tk = keys.size(1), G = Hq / Hkv;
  const int64_t ld = (Tk + 15) / 16 * 16;
  const at::Tensor m = mask.defined() ? mask.contiguous() : mask;
  TORCH_CHECK(!m.defined() || (m.dim() == 3 && m.size(1) == G * n && m.size(2) == Tk &&
                               (m.size(0) == 1 || m.size(0) == Hkv)),
              "queryBlockAttention: mask of another shape than [1 or Hkv, G*n, Tk]");
  const at::Tensor qc = q.contiguous(), kT = transposedColumns(keys, ld);
  const at::Tensor vT = transposedColumns(values, ld);
  at::Tensor out = at::empty({n, Hq * D}, q.options());  // [n, Hq*D]
  const bool wantsAttention = observer && observer->wantsAttention();
  at::Tensor probs = wantsAttention ? at::empty({Hq, n, Tk}, q.options()) : at::Tensor();
  kernels::CausalAttentionArgs a;
  a.q = qc.data_ptr<float>(), a.keysT = kT.data_ptr<float>(), a.valuesT = vT.data_ptr<float>();
  a.mask = m.defined() ? m.data_ptr<float>() : nullptr;
  a.out = out.data_ptr<float>(), a.probs = wantsAttention ? probs.data_ptr<float>() : nullptr;
  a.n = n, a.Hq = Hq, a.Hkv = Hkv, a.D = D, a.Tk = Tk, a.ld = ld;
  a.maskHeads = m.defined() ? m.size(0) : 1, a.scale = static_cast<float>(scale);
  kernels::causalAttention(a);
  const at::Tensor result = out.to(resultType);  // [n, Hq*D], rounded once for bfloat16
  if (wantsAttention) observer->onTensor(layer, "attn", probs);
  if (observer) {  // contiguous and in the result's dtype, as the other path's
    observer->onTensor(layer, "attn_out", result.view({n, Hq, D}).transpose(0, 1).contiguous());
  }
  return result;
}

}  // namespace

int64_t queryBlockRows(int64_t Hq, int64_t Tk) {
  return std::max<int64_t>(1, kScoreBlockBytes / (Hq * std::max<int64_t>(Tk, 1) * 4));
}

at::Tensor queryBlockAttention(const at::Tensor& q, const at::Tensor& keys,
                               const at::Tensor& values, const at::Tensor& mask, double scale,
                               int layer, LayerObserver* observer) {
  const auto floatOrBf16 = [](const at::Tensor& t) {
    return t.scalar_type() == at::kFloat || t.scalar_type() == at::kBFloat16;
  };
  if (q.device().is_cpu() && floatOrBf16(q) && floatOrBf16(keys) && floatOrBf16(values) &&
      (!mask.defined() || floatOrBf16(mask)) && kernels::causalAttentionAvailable()) {
    // bfloat16 is widened to float32 (q, mask here, keys and values as they are transposed) and
    // the result rounded once: the arithmetic of the decode step, which reads a bfloat16 cache
    // in float32 too.
    return fusedRowAttention(q.to(at::kFloat), keys, values,
                             mask.defined() ? mask.to(at::kFloat) : mask, scale, layer, observer,
                             q.scalar_type());
  }
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
    // Causality within the block: row i sees columns up to past + first + i.
    const at::Tensor causal = at::full({b, visible}, -INFINITY, q.options())
                                  .triu(past + first + 1)
                                  .view({1, 1, b, visible})
                                  .expand({1, G, b, visible})
                                  .reshape({1, G * b, visible});
    at::Tensor m = causal;  // [1 or Hkv, G*b, visible]
    if (mask.defined()) {
      // The block's rows of the mask, g*n + first + i -> g*b + i, and its visible columns.
      m = mask.view({mask.size(0), G, n, Tk})
              .narrow(2, first, b)
              .narrow(3, 0, visible)
              .reshape({mask.size(0), G * b, visible}) +
          causal;
    }
    const at::Tensor scores = at::baddbmm(m, qg, k.transpose(1, 2), 1.0, scale);
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
