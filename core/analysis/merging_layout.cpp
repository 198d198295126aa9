#include "analysis/merging_layout.h"

#include <algorithm>
#include <exception>

#include "cache/slot_map.h"
#include "compress/compression_policy.h"
#include "compress/merging_sets.h"
#include "session/prefill_state.h"
#include "util/error.h"

namespace kvs {
namespace {

// KVMergerPolicy's decision (decideMergingSets) drawn as spans, with the pivot chosen as
// gaussianMerge chooses it: the largest attention in the set, ties to the lowest index.
HeadLayout kvmergerHead(const std::vector<float>& cos, const std::vector<Slot>& old,
                        const std::vector<double>& attention, const CompressionParams& p) {
  const int S = static_cast<int>(old.size());
  const SetDecision d = decideMergingSets(cos, attention, p.recentCount(S), p.protectedCount(S),
                                          p.targetSlots(S), p.exactBudget, p.eps);
  HeadLayout head;
  head.isProtected = d.isProtected;
  head.eps = d.eps;
  head.releasedProtected = d.releasedProtected;
  for (const MergingSet& set : d.sets) {
    int pivot = set.first;
    for (int j = set.first + 1; j <= set.last; ++j) {
      if (attention[j] > attention[pivot]) pivot = j;
    }
    LayoutSpan slot{old[set.first].first, old[set.last].last, old[pivot].pivot, 0, 0.0};
    for (int j = set.first; j <= set.last; ++j) {
      slot.count += old[j].count;
      slot.attention += old[j].attention;
    }
    head.spans.push_back(slot);
  }
  return head;
}

std::vector<LayoutSpan> spansOf(const std::vector<Slot>& slots) {
  std::vector<LayoutSpan> out;
  for (const Slot& s : slots) out.push_back({s.first, s.last, s.pivot, s.count, s.attention});
  return out;
}

std::vector<HeadLayout> kvmergerLayer(const PrefillState& state, const SlotMap& map, int l,
                                      const CompressionParams& p) {
  const int H = map.kvHeads();
  std::vector<HeadLayout> heads;
  const bool skipped = std::find(p.skipLayers.begin(), p.skipLayers.end(), l) != p.skipLayers.end();
  if (skipped) {
    for (int h = 0; h < H; ++h) heads.push_back({spansOf(map.head(l, h)), {}});
    return heads;
  }
  if (p.layout == MergeLayout::kSharedPerLayer) {
    const int S = static_cast<int>(map.head(l, 0).size());
    std::vector<float> cos(std::max(0, S - 1), 0.0f);
    std::vector<double> attention(S, 0.0);
    for (int h = 0; h < H; ++h) {
      const auto& c = state.adjacentCos[l][h];
      for (size_t i = 0; i < c.size(); ++i) cos[i] += c[i] / H;
      for (int i = 0; i < S; ++i) attention[i] += map.head(l, h)[i].attention / H;
    }
    const HeadLayout shared = kvmergerHead(cos, map.head(l, 0), attention, p);
    for (int h = 0; h < H; ++h) {
      HeadLayout head = shared;
      // Each head's own counts and attention, on the shared boundaries.
      for (LayoutSpan& s : head.spans) {
        s.attention = 0;
        for (int j = s.first; j <= s.last; ++j) s.attention += map.head(l, h)[j].attention;
      }
      heads.push_back(std::move(head));
    }
    return heads;
  }
  for (int h = 0; h < H; ++h) {
    const auto& old = map.head(l, h);
    heads.push_back(kvmergerHead(state.adjacentCos[l][h], old, attentionOf(old), p));
  }
  return heads;
}

}  // namespace

int MergingLayout::mergedSpans(int layer, int head) const {
  int n = 0;
  for (const LayoutSpan& s : heads.at(layer).at(head).spans) n += s.count > 1;
  return n;
}

MergingLayout computeMergingLayout(const PrefillState& state, const CompressionParams& params) {
  MergingLayout layout;
  layout.tokens = state.tokens();
  const SlotMap& map = state.map(params.gqaReduction);
  try {
    const auto policy = makePolicy(params);  // validates
    for (int l = 0; l < map.layers(); ++l) {
      if (params.method == Method::kKVMerger) {
        layout.heads.push_back(kvmergerLayer(state, map, l, params));
        continue;
      }
      std::vector<HeadLayout> heads;
      const auto plans = policy ? policy->planLayer(state.cache, map, l) : std::vector<HeadPlan>{};
      for (int h = 0; h < map.kvHeads(); ++h) {
        heads.push_back({spansOf(plans.empty() ? map.head(l, h) : plans[h].slots), {}});
      }
      layout.heads.push_back(std::move(heads));
    }
  } catch (const std::exception& e) {
    layout.heads.clear();
    layout.error = e.what();
  }
  return layout;
}

}  // namespace kvs
