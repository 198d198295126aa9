#pragma once
// SlotMap: which original tokens each cache slot stands for. Plain data (no tensors), kept beside
// the KvCache: slot s of (layer, KV head) covers token positions first..last, was merged around
// the pivot position, holds count tokens, and has accumulated this much attention.

#include <limits>
#include <vector>

namespace kvs {

struct Slot {
  int first = 0;         // first original position covered
  int last = 0;          // last original position covered
  int pivot = 0;         // position whose key dominates the slot (itself for a plain token)
  int count = 1;         // tokens merged into this slot (the set size)
  double attention = 0;  // accumulated attention (H2O's score), summed over merged members

  static Slot token(int position) { return {position, position, position, 1, 0.0}; }
};

// How the last compression of one (layer, KV head) was decided.
struct HeadDecision {
  // KVMerger's merging threshold (searched per head for an exact budget); NaN where no threshold
  // applied (other methods, skipped layers, never compressed).
  double eps = std::numeric_limits<double>::quiet_NaN();
  int releasedProtected = 0;  // protected tokens KVMerger released so that an exact budget fits
};

// Each slot's accumulated attention, in order.
std::vector<double> attentionOf(const std::vector<Slot>& slots);

struct SlotMap {
  std::vector<std::vector<std::vector<Slot>>> slots;  // [L][Hkv][S_h], token order
  std::vector<std::vector<HeadDecision>> decisions;   // [L][Hkv], set by applyLayerPlan

  void reset(int layers, int kvHeads);
  // Appends n singleton slots for positions first .. first+n-1 to every (layer, head).
  void appendTokens(int first, int n);
  std::vector<Slot>& head(int layer, int h) { return slots[layer][h]; }
  const std::vector<Slot>& head(int layer, int h) const { return slots[layer][h]; }
  int layers() const { return static_cast<int>(slots.size()); }
  int kvHeads() const { return slots.empty() ? 0 : static_cast<int>(slots[0].size()); }
};

}  // namespace kvs
