#include "cache/slot_map.h"

namespace kvs {

std::vector<double> attentionOf(const std::vector<Slot>& slots) {
  std::vector<double> a;
  a.reserve(slots.size());
  for (const Slot& s : slots) a.push_back(s.attention);
  return a;
}

void SlotMap::reset(int layers, int kvHeads) {
  slots.assign(layers, std::vector<std::vector<Slot>>(kvHeads));
  decisions.assign(layers, std::vector<HeadDecision>(kvHeads));
}

}  // namespace kvs
