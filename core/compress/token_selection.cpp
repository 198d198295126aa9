// The keep-or-evict choices the selection methods share (token_selection.h).

#include <algorithm>

#include "compress/merging_sets.h"
#include "compress/token_selection.h"
#include "util/error.h"

namespace kvs {

// At least one recent slot is kept: a budget of 4 slots with 4 sinks would otherwise evict each
// new token at once and freeze the cache on the first ones.
std::vector<char> sinksAndRecent(int S, int target, int sinkTokens) {
  const int sinks = std::min(sinkTokens, std::max(0, target - 1));
  std::vector<char> keep(S, 0);
  for (int i = 0; i < S; ++i) keep[i] = i < sinks || i >= S - (target - sinks);
  return keep;
}

std::vector<char> recentAndHeavy(const std::vector<Slot>& slots, const CompressionParams& p) {
  const int S = static_cast<int>(slots.size()), target = p.targetSlots(S);
  const int recent = p.recentCount(S);
  const int heavy = std::min(p.protectedCount(S), target - recent);
  require(recent <= target, "recent tokens (" + std::to_string(recent) + ") exceed the budget of " +
                                std::to_string(target) + " slots; lower --recent");
  std::vector<double> attention(S);
  for (int i = 0; i < S; ++i) attention[i] = slots[i].attention;
  return protectedSlots(attention, recent, heavy);
}

std::vector<int> keptIndices(const std::vector<char>& keep) {
  std::vector<int> kept;
  for (int i = 0; i < static_cast<int>(keep.size()); ++i) {
    if (keep[i]) kept.push_back(i);
  }
  return kept;
}

}  // namespace kvs
