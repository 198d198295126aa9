#pragma once
// The keep-or-evict choices the selection methods share: StreamingLLM's sinks + recent and
// H2O's recent + heavy hitters. CaM starts from either.

#include <vector>

#include "cache/slot_map.h"
#include "compress/compression_params.h"

namespace kvs {

// StreamingLLM's choice among S slots: the first `sinkTokens` and the most recent up to the
// target, keeping at least one recent slot. [S] 1 = kept.
std::vector<char> sinksAndRecent(int S, int target, int sinkTokens);

// H2O's choice for one head's slots: the recent ones and the heaviest by accumulated attention,
// up to the target. KvsError when the recent tokens alone exceed it. [S] 1 = kept.
std::vector<char> recentAndHeavy(const std::vector<Slot>& slots, const CompressionParams& p);

// The indices of the kept slots, in order.
std::vector<int> keptIndices(const std::vector<char>& keep);

}  // namespace kvs
