#include "compress/compression_plan.h"

#include <ATen/ATen.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cache/kv_cache.h"
#include "util/error.h"

namespace kvs {

void HeadPlan::addEntry(int oldSlot, float keyW, float valueW) {
  source.push_back(oldSlot);
  keyWeight.push_back(keyW);
  valueWeight.push_back(valueW);
}

void HeadPlan::closeSlot(const Slot& slot) {
  slots.push_back(slot);
  entryStart.push_back(static_cast<int>(source.size()));
}

HeadPlan HeadPlan::keep(const std::vector<Slot>& old, const std::vector<int>& kept) {
  HeadPlan plan;
  for (int i : kept) {
    plan.addEntry(i, 1.0f, 1.0f);
    plan.closeSlot(old[i]);
  }
  return plan;
}

namespace {

// dst[s] = sum over entries e of slot s: weight[e] * src[source[e]];  src [S, D], dst [S', D].
// Always mixed in float32, whatever the cache dtype and device: fp16/bf16 sums of a few terms
// lose bits a merged key or value keeps in float32; only the result is rounded to the cache dtype.
void mixRows(const HeadPlan& p, const std::vector<float>& weight, const at::Tensor& src,
             at::Tensor dst) {
  const int64_t D = src.size(1);
  if (src.is_cpu() && src.scalar_type() == at::kFloat && src.stride(1) == 1 && dst.stride(1) == 1) {
    // Plain loops: ATen's CPU index_add_ dispatches once per index (seconds on a 7B cache).
    const float* in = src.data_ptr<float>();
    float* out = dst.data_ptr<float>();
    const int64_t inStride = src.stride(0), outStride = dst.stride(0);
    for (int s = 0; s < p.size(); ++s) {
      float* row = out + s * outStride;
      for (int e = p.entryStart[s]; e < p.entryStart[s + 1]; ++e) {
        const float w = weight[e];
        if (w == 0.0f) continue;
        const float* from = in + p.source[e] * inStride;
        for (int64_t d = 0; d < D; ++d) row[d] += w * from[d];
      }
    }
    return;
  }
  std::vector<int64_t> slotOfEntry(p.source.size());
  for (int s = 0; s < p.size(); ++s) {
    for (int e = p.entryStart[s]; e < p.entryStart[s + 1]; ++e) slotOfEntry[e] = s;
  }
  const auto device = src.device();
  const at::Tensor index =
      at::tensor(std::vector<int64_t>(p.source.begin(), p.source.end()), at::kLong).to(device);
  const at::Tensor w = at::tensor(weight).to(device).unsqueeze(1);             // [E, 1] float32
  at::Tensor mixed = at::zeros(dst.sizes(), src.options().dtype(at::kFloat));  // [S', D]
  mixed.index_add_(0, at::tensor(slotOfEntry, at::kLong).to(device),
                   src.index_select(0, index).to(at::kFloat) * w);
  dst.copy_(mixed);
}

// Whether a head can be rewritten over its own rows in slot order: every new slot reads only old
// slots at or after its own index. True for dropping and for merging adjacent sets; CaM can merge
// an evicted value into a kept slot further on, and then such a head works from a copy.
bool readsForward(const HeadPlan& p) {
  for (int s = 0; s < p.size(); ++s) {
    for (int e = p.entryStart[s]; e < p.entryStart[s + 1]; ++e) {
      if (p.source[e] < s) return false;
    }
  }
  return true;
}

// Writes the new layer densely over the old one, data [Hkv, oldCapacity, D] -> [Hkv, capacity,
// D] from the same first element. Head h's new rows start at or before its old rows and read
// only rows at or after the one being written (readsForward), so processing heads and slots in
// order never overwrites a row still to be read. Mixing is in float32 whatever the cache dtype.
template <typename T>
void mixLayerInPlace(const std::vector<HeadPlan>& heads, bool values, T* data, int64_t oldCapacity,
                     int64_t capacity, int64_t D) {
  std::vector<float> row(D);
  std::vector<T> copy;
  for (size_t h = 0; h < heads.size(); ++h) {
    const HeadPlan& p = heads[h];
    const std::vector<float>& weight = values ? p.valueWeight : p.keyWeight;
    const T* src = data + h * oldCapacity * D;
    T* dst = data + h * capacity * D;
    if (!readsForward(p)) {
      const int rows =
          p.source.empty() ? 0 : *std::max_element(p.source.begin(), p.source.end()) + 1;
      copy.assign(src, src + rows * D);
      src = copy.data();
    }
    for (int s = 0; s < p.size(); ++s) {
      const int begin = p.entryStart[s], end = p.entryStart[s + 1];
      T* to = dst + s * D;
      if (end - begin == 1 && weight[begin] == 1.0f) {  // a kept slot: a plain row move
        const T* from = src + p.source[begin] * D;
        if (from != to) std::memmove(to, from, D * sizeof(T));
        continue;
      }
      std::fill(row.begin(), row.end(), 0.0f);
      for (int e = begin; e < end; ++e) {
        const float w = weight[e];
        if (w == 0.0f) continue;
        const T* from = src + p.source[e] * D;
        for (int64_t d = 0; d < D; ++d) row[d] += w * static_cast<float>(from[d]);
      }
      for (int64_t d = 0; d < D; ++d) to[d] = static_cast<T>(row[d]);
    }
  }
}

void mixLayerInPlace(const std::vector<HeadPlan>& heads, const at::Tensor& keys,
                     const at::Tensor& values, int capacity) {
  const int64_t oldCapacity = keys.size(1), D = keys.size(2);
  // Keys and values are independent: one task each.
  at::parallel_for(0, 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const at::Tensor& t = i == 0 ? keys : values;
      AT_DISPATCH_FLOATING_TYPES_AND2(
          at::kHalf, at::kBFloat16, t.scalar_type(), "mixLayerInPlace", [&] {
            mixLayerInPlace(heads, i == 1, t.data_ptr<scalar_t>(), oldCapacity, capacity, D);
          });
    }
  });
}

// The general path (GPU, or storage shared with another tensor): a new layer, then a swap.
void mixLayerIntoNewStorage(const std::vector<HeadPlan>& heads, int layer, int capacity,
                            LayerCells cells, KvCache& cache) {
  const at::Tensor keys = cache.keys(layer), values = cache.values(layer);  // [Hkv, Smax, D]
  at::Tensor newKeys = cache.allocate(capacity);  // [Hkv, capacity, D], zero padding
  at::Tensor newValues = cache.allocate(capacity);
  for (size_t h = 0; h < heads.size(); ++h) {
    mixRows(heads[h], heads[h].keyWeight, keys[h], newKeys[h]);
    mixRows(heads[h], heads[h].valueWeight, values[h], newValues[h]);
  }
  cache.replaceLayer(layer, newKeys, newValues, std::move(cells));
}

}  // namespace

void applyLayerPlan(const std::vector<HeadPlan>& heads, int layer, KvCache& cache, int headroom,
                    bool logBias) {
  if (heads.empty()) return;
  int longest = 1;
  LayerCells cells;
  for (const HeadPlan& p : heads) {
    require(!p.slotsOnly, "a slots-only plan (for drawing) cannot be applied to the cache");
    cells.heads.push_back(p.slots);
    cells.decisions.push_back(p.decision);
    longest = std::max(longest, p.size());
  }
  // The new layer is padded to its longest head: [Hkv, S'max + headroom, D]
  const int capacity = std::min(longest + headroom, cache.maxLength());
  const bool inPlace = cache.rewriteLayerInPlace(
      layer, capacity, cells, [&](const at::Tensor& keys, const at::Tensor& values) {
        mixLayerInPlace(heads, keys, values, capacity);
      });
  if (!inPlace) mixLayerIntoNewStorage(heads, layer, capacity, std::move(cells), cache);
  if (logBias) {
    std::vector<float> bias(heads.size() * capacity, 0.0f);
    for (size_t h = 0; h < heads.size(); ++h) {
      for (int s = 0; s < heads[h].size(); ++s) {
        bias[h * capacity + s] = std::log(static_cast<float>(heads[h].slots[s].count));
      }
    }
    cache.setSlotBias(layer, at::tensor(bias).view({static_cast<int64_t>(heads.size()), capacity}));
  }
}

void applyPlan(const CompressionPlan& plan, KvCache& cache, int headroom, bool logBias) {
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    applyLayerPlan(plan.layers[l], static_cast<int>(l), cache, headroom, logBias);
  }
}

}  // namespace kvs
