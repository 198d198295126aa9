#pragma once
// A compression plan says, for every (layer, KV head), what each new slot is made of: a list of
// (old slot, key weight, value weight) entries. Dropping, keeping, Gaussian merging (KVMerger) and
// value merging (CaM) are all such plans, so one routine applies them to the cache for real.

#include <vector>

#include "cache/slot_map.h"

namespace kvs {

class KvCache;

struct HeadPlan {
  std::vector<Slot> slots;         // metadata of the new slots, in token order
  std::vector<int> entryStart{0};  // new slot s uses entries [entryStart[s], entryStart[s+1])
  std::vector<int> source;         // old slot of each entry
  std::vector<float> keyWeight;    // new key   = sum of keyWeight   * old key
  std::vector<float> valueWeight;  // new value = sum of valueWeight * old value
  HeadDecision decision;           // KVMerger's threshold and released protection, if any
  // [old slots] the ones the method kept as they are on purpose (KVMerger: recent and
  // top-attention tokens), for drawing; empty when the method has no such notion.
  std::vector<char> isProtected;
  bool slotsOnly = false;  // weights left out (CompressionPolicy::planSlotsOnly): not applicable

  void addEntry(int oldSlot, float keyW, float valueW);
  // Ends the current new slot with its metadata.
  void closeSlot(const Slot& slot);
  int size() const { return static_cast<int>(slots.size()); }

  // Keeps the given old slots (sorted) unchanged.
  static HeadPlan keep(const std::vector<Slot>& old, const std::vector<int>& kept);
};

struct CompressionPlan {
  // [L][Hkv]; a layer with no head plans is left as it is.
  std::vector<std::vector<HeadPlan>> layers;
};

// Rebuilds one planned layer of the cache (freeing the old storage); the cache takes the plan's
// slots as that layer's cells and its decisions. An empty heads vector leaves the layer as it is.
// headroom: extra slots allocated per head for tokens decoded afterwards. logBias: each slot
// standing for n > 1 tokens gets +log(n) on its attention logits.
void applyLayerPlan(const std::vector<HeadPlan>& heads, int layer, KvCache& cache, int headroom = 0,
                    bool logBias = false);

// Every layer of a plan.
void applyPlan(const CompressionPlan& plan, KvCache& cache, int headroom = 0, bool logBias = false);

}  // namespace kvs
