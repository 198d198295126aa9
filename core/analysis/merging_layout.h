#pragma once
// What a compression setting does to each (layer, KV head) of a kept prefill, without doing it:
// the slots it would keep (a merging set is a slot covering first..last around a pivot), and
// which tokens are protected. Plain data, so it can be drawn and sent between threads.
//
// KVMerger's sets come from the kept adjacent cosines alone (vector work, no tensors), so a new
// eps or budget updates the boundaries at once; the other methods ask their policy for a plan.

#include <limits>
#include <string>
#include <vector>

#include "compress/compression_params.h"

namespace kvs {

struct PrefillState;

// One slot a setting would keep (SlotMap's Slot without the name clash: this header is included
// by Qt code, where `slots` is a macro).
struct LayoutSpan {
  int first = 0, last = 0;  // original positions covered
  int pivot = 0;            // position whose key dominates (itself for a plain token)
  int count = 1;            // tokens in the span
  double attention = 0;     // accumulated attention of its members
};

struct HeadLayout {
  std::vector<LayoutSpan> spans;  // in token order; a token covered by none is evicted
  std::vector<char> isProtected;  // [T] recent or top-attention tokens KVMerger never merges
  // KVMerger: the threshold used (searched for exact budgets); NaN where none applied.
  double eps = std::numeric_limits<double>::quiet_NaN();
  int releasedProtected = 0;  // KVMerger: protected tokens released to fit an exact budget
};

struct MergingLayout {
  int tokens = 0;
  std::vector<std::vector<HeadLayout>> heads;  // [L][Hkv]; empty when error is set
  std::string error;                           // why the setting cannot be applied

  // How many of (layer, head)'s spans stand for more than one token.
  int mergedSpans(int layer, int head) const;
};

// Never throws for a bad setting: the message goes into error.
MergingLayout computeMergingLayout(const PrefillState& state, const CompressionParams& params);

}  // namespace kvs
