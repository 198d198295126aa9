#include "compress/compression_plan.h"

#include <ATen/ATen.h>

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

void HeadPlan::addToClosedSlot(int s, int oldSlot, float keyW, float valueW) {
  // Entries are kept grouped by slot: insert at the end of slot s's range.
  const int at = entryStart[s + 1];
  source.insert(source.begin() + at, oldSlot);
  keyWeight.insert(keyWeight.begin() + at, keyW);
  valueWeight.insert(valueWeight.begin() + at, valueW);
  for (size_t i = s + 1; i < entryStart.size(); ++i) ++entryStart[i];
}

HeadPlan HeadPlan::keep(const std::vector<Slot>& old, const std::vector<int>& kept) {
  HeadPlan plan;
  for (int i : kept) {
    plan.addEntry(i, 1.0f, 1.0f);
    plan.closeSlot(old[i]);
  }
  return plan;
}

void applyPlan(const CompressionPlan& plan, KvCache& cache, SlotMap& map) {
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const auto& heads = plan.layers[l];
    if (heads.empty()) continue;
    const int layer = static_cast<int>(l);
    const at::Tensor keys = cache.keys(layer), values = cache.values(layer);  // [Hkv, Smax, D]
    std::vector<at::Tensor> newKeys, newValues;
    for (size_t h = 0; h < heads.size(); ++h) {
      const HeadPlan& p = heads[h];
      std::vector<int64_t> slotOfEntry(p.source.size());
      for (int s = 0; s < p.size(); ++s) {
        for (int e = p.entryStart[s]; e < p.entryStart[s + 1]; ++e) slotOfEntry[e] = s;
      }
      const auto device = keys.device();
      const at::Tensor src =
          at::tensor(std::vector<int64_t>(p.source.begin(), p.source.end()), at::kLong).to(device);
      const at::Tensor dst = at::tensor(slotOfEntry, at::kLong).to(device);
      const at::Tensor kw = at::tensor(p.keyWeight).to(device).unsqueeze(1);    // [E, 1]
      const at::Tensor vw = at::tensor(p.valueWeight).to(device).unsqueeze(1);  // [E, 1]
      const int64_t D = keys.size(2);
      // new[s] = sum over entries e of slot s: weight[e] * old[source[e]]     [S', D]
      newKeys.push_back(at::zeros({p.size(), D}, keys.options())
                            .index_add_(0, dst, keys[h].index_select(0, src) * kw));
      newValues.push_back(at::zeros({p.size(), D}, values.options())
                              .index_add_(0, dst, values[h].index_select(0, src) * vw));
      map.head(layer, static_cast<int>(h)) = p.slots;
    }
    cache.replaceLayer(layer, newKeys, newValues);
  }
}

}  // namespace kvs
