#include "model/sliding_window.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cache/kv_cache.h"

namespace kvs {

at::Tensor slidingWindowMask(const KvCache& cache, int layer, int window, int groupSize,
                             at::ScalarType dtype) {
  if (window <= 0) return {};
  const int Hkv = cache.nKvHeads();
  // During an append each head's cells end with the pending tokens' (one each).
  const int total = static_cast<int>(cache.keys(layer).size(1));  // Smax + n
  const int n = total - [&] {
    int longest = 0;
    for (int h = 0; h < Hkv; ++h) longest = std::max(longest, cache.slotCount(layer, h));
    return longest;
  }();
  const int firstQuery = cache.length();  // position of the first pending token
  // Query i (position firstQuery + i) hides slots whose newest position <= firstQuery + i - W.
  const int lastQueryLimit = lastHiddenPosition(firstQuery + n - 1, window);
  if (lastQueryLimit < 0) return {};  // no position is old enough to leave any window yet

  // The newest position of each slot, per head; heads with identical cells share one row.
  constexpr int64_t kPadding = std::numeric_limits<int32_t>::max();  // never hidden here
  std::vector<int64_t> newest(static_cast<size_t>(Hkv) * total, kPadding);
  bool same = true;
  bool anyHidden = false;
  for (int h = 0; h < Hkv; ++h) {
    const auto& cells = cache.cells(layer, h);
    for (size_t j = 0; j < cells.size() && j < size_t(total); ++j) {
      newest[size_t(h) * total + j] = cells[j].last;
      anyHidden = anyHidden || cells[j].last <= lastQueryLimit;
    }
    same = same && std::equal(newest.begin() + size_t(h) * total,
                              newest.begin() + size_t(h + 1) * total, newest.begin());
  }
  if (!anyHidden) return {};
  const int64_t heads = same ? 1 : Hkv;
  const auto device = cache.keys(layer).device();
  const at::Tensor slotLast =
      at::tensor(std::vector<int64_t>(newest.begin(), newest.begin() + heads * total), at::kLong)
          .view({heads, 1, total})
          .to(device);
  const at::Tensor limit = at::arange(n, at::TensorOptions(at::kLong).device(device))
                               .add_(lastQueryLimit - (n - 1))
                               .view({1, n, 1});  // [1, n, 1]: query i's limit, firstQuery + i - W
  const at::Tensor hidden = slotLast <= limit;    // [heads, n, total]
  at::Tensor mask = at::zeros({heads, n, total}, at::TensorOptions(dtype).device(device));
  mask.masked_fill_(hidden, -INFINITY);
  if (groupSize == 1) return mask;
  return mask.unsqueeze(1)
      .expand({heads, groupSize, n, total})
      .reshape({heads, int64_t{groupSize} * n, total});
}

}  // namespace kvs
