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

void SlotMap::appendTokens(int first, int n) {
  for (auto& layer : slots) {
    for (auto& head : layer) {
      for (int p = first; p < first + n; ++p) head.push_back(Slot::token(p));
    }
  }
}

}  // namespace kvs
