#pragma once
// A cache's cells: which original tokens each slot stands for. The KvCache owns them and keeps
// them in step with its slots (kv_cache.h); SlotMap is their plain-data copy for results and
// recordings. Slot s of (layer, KV head) covers token positions first..last, was merged around
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
  std::vector<std::vector<HeadDecision>> decisions;   // [L][Hkv], of the last compression

  void reset(int layers, int kvHeads);
  std::vector<Slot>& head(int layer, int h) { return slots[layer][h]; }
  const std::vector<Slot>& head(int layer, int h) const { return slots[layer][h]; }
  int layers() const { return static_cast<int>(slots.size()); }
  int kvHeads() const { return slots.empty() ? 0 : static_cast<int>(slots[0].size()); }
};

// The new cells of one compressed layer: [S_h] per KV head in token order, and how each head's
// compression was decided.
struct LayerCells {
  std::vector<std::vector<Slot>> heads;  // [Hkv][S_h]
  std::vector<HeadDecision> decisions;   // [Hkv], or empty: none recorded (NaN eps)
};

}  // namespace kvs
