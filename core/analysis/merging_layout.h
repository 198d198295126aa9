#pragma once
// What a compression setting does to each (layer, KV head) of a kept prefill, without doing it:
// the slots it would keep (a merging set is a slot covering first..last around a pivot), and
// which tokens are protected. Plain data, so it can be drawn and sent between threads.
//
// Every method's layout is its policy's own plan of the kept prefill (nothing is applied); KVMerger
// reads the prefill's kept adjacent cosines instead of computing them, so a new eps or budget
// costs the set search and the merge weights only.

#include <limits>
#include <string>
#include <vector>

#include "cache/slot_map.h"
#include "compress/compression_params.h"

namespace kvs {

struct PrefillState;

struct HeadLayout {
  std::vector<Slot> slots;        // in token order; a token covered by none is evicted
  std::vector<char> isProtected;  // [T] recent or top-attention tokens KVMerger never merges
  // KVMerger: the threshold used (searched for exact budgets); NaN where none applied.
  double eps = std::numeric_limits<double>::quiet_NaN();
  int releasedProtected = 0;  // KVMerger: protected tokens released to fit an exact budget
};

struct MergingLayout {
  int tokens = 0;
  std::vector<std::vector<HeadLayout>> heads;  // [L][Hkv]; empty when error is set
  std::string error;                           // why the setting cannot be applied

  // How many of (layer, head)'s slots stand for more than one token.
  int mergedSlots(int layer, int head) const;
};

// Never throws for a bad setting: the message goes into error.
MergingLayout computeMergingLayout(const PrefillState& state, const CompressionParams& params);

}  // namespace kvs
