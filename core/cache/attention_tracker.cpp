#include "cache/attention_tracker.h"

#include <ATen/ATen.h>

#include "cache/kv_cache.h"

namespace kvs {

at::Tensor reduceAttention(const at::Tensor& attention, int groupSize, GqaReduction reduction) {
  // [Hq, n, Tk] -> summed over the new queries -> [Hkv, G, Tk] -> reduced over the group
  const int64_t Hq = attention.size(0), Tk = attention.size(2);
  const at::Tensor perHead = attention.sum(1).view({Hq / groupSize, groupSize, Tk});
  at::Tensor reduced;
  switch (reduction) {
    case GqaReduction::kMean:
      reduced = perHead.mean(1);
      break;
    case GqaReduction::kSum:
      reduced = perHead.sum(1);
      break;
    case GqaReduction::kMax:
      reduced = std::get<0>(perHead.max(1));
      break;
  }
  return reduced.to(at::kCPU, at::kDouble).contiguous();  // [Hkv, Tk]
}

void AttentionTracker::onTensor(int layer, const std::string& name, const at::Tensor& tensor) {
  if (name != "attn") return;
  cache_.addAttention(layer, reduceAttention(tensor, groupSize_, reduction_));
}

}  // namespace kvs
