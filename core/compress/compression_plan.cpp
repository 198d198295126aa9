#include "compress/compression_plan.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "cache/kv_cache.h"

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

// dst[s] = sum over entries e of slot s: weight[e] * src[source[e]];  src [S, D], dst [S', D]
void mixRows(const HeadPlan& p, const std::vector<float>& weight, const at::Tensor& src,
             at::Tensor dst) {
  const int64_t D = src.size(1);
  if (src.is_cpu() && src.scalar_type() != at::kFloat) {
    // A bf16/fp16 cache: mix in float32 (LibTorch 1.13 has few fp16 CPU kernels), store rounded.
    at::Tensor mixed = at::zeros(dst.sizes(), src.options().dtype(at::kFloat));
    mixRows(p, weight, src.to(at::kFloat), mixed);
    dst.copy_(mixed);
    return;
  }
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
  const at::Tensor w = at::tensor(weight).to(device, src.scalar_type()).unsqueeze(1);  // [E, 1]
  dst.index_add_(0, at::tensor(slotOfEntry, at::kLong).to(device), src.index_select(0, index) * w);
}

}  // namespace

void applyLayerPlan(const std::vector<HeadPlan>& heads, int layer, KvCache& cache, SlotMap& map,
                    int headroom, bool logBias) {
  {
    if (heads.empty()) return;
    const at::Tensor keys = cache.keys(layer), values = cache.values(layer);  // [Hkv, Smax, D]
    int longest = 1;
    std::vector<int> counts;
    for (const HeadPlan& p : heads) {
      counts.push_back(p.size());
      longest = std::max(longest, p.size());
    }
    // The new layer, zero-padded to its longest head: [Hkv, S'max, D]
    const int capacity = std::min(longest + headroom, cache.maxLength());
    at::Tensor newKeys = cache.allocate(capacity);
    at::Tensor newValues = cache.allocate(capacity);
    for (size_t h = 0; h < heads.size(); ++h) {
      mixRows(heads[h], heads[h].keyWeight, keys[h], newKeys[h]);
      mixRows(heads[h], heads[h].valueWeight, values[h], newValues[h]);
      map.head(layer, static_cast<int>(h)) = heads[h].slots;
    }
    cache.replaceLayer(layer, newKeys, newValues, counts);
    if (logBias) {
      std::vector<float> bias(heads.size() * capacity, 0.0f);
      for (size_t h = 0; h < heads.size(); ++h) {
        for (int s = 0; s < heads[h].size(); ++s) {
          bias[h * capacity + s] = std::log(static_cast<float>(heads[h].slots[s].count));
        }
      }
      cache.setSlotBias(layer,
                        at::tensor(bias).view({static_cast<int64_t>(heads.size()), capacity}));
    }
  }
}

void applyPlan(const CompressionPlan& plan, KvCache& cache, SlotMap& map, int headroom,
               bool logBias) {
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    applyLayerPlan(plan.layers[l], static_cast<int>(l), cache, map, headroom, logBias);
  }
}

}  // namespace kvs
