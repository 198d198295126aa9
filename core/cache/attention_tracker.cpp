#include "cache/attention_tracker.h"

#include <ATen/ATen.h>

namespace kvs {

void AttentionTracker::onTensor(int layer, const std::string& name, const at::Tensor& tensor) {
  if (name != "attn") return;
  // [Hq, n, Tk] -> summed over the new queries -> [Hkv, G, Tk] -> reduced over the group
  const int64_t Hq = tensor.size(0), Tk = tensor.size(2);
  const at::Tensor perHead = tensor.sum(1).view({Hq / groupSize_, groupSize_, Tk});
  at::Tensor reduced;
  switch (reduction_) {
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
  const at::Tensor a = reduced.to(at::kCPU, at::kDouble).contiguous();  // [Hkv, Tk]
  const double* data = a.data_ptr<double>();
  for (int h = 0; h < map_.kvHeads(); ++h) {
    auto& slots = map_.head(layer, h);
    for (size_t j = 0; j < slots.size() && static_cast<int64_t>(j) < Tk; ++j) {
      slots[j].attention += data[h * Tk + j];
    }
  }
}

}  // namespace kvs
