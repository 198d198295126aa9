// KvCache's cells (what each slot stands for, kept in step with the storage) and its memory
// accounting; the storage itself is in kv_cache.cpp.

#include <ATen/ATen.h>

#include <algorithm>

#include "cache/kv_cache.h"
#include "model/sliding_window.h"
#include "util/error.h"

namespace kvs {

int KvCache::slotCount(int layer, int head) const {
  return static_cast<int>(cells_.slots[layer][head].size()) - pending_;
}

std::vector<int> KvCache::slotCounts(int layer) const {
  std::vector<int> counts;
  for (int h = 0; h < nKvHeads_; ++h) counts.push_back(slotCount(layer, h));
  return counts;
}

int KvCache::totalSlots() const {
  int total = 0;
  for (int l = 0; l < nLayers_; ++l) {
    for (int h = 0; h < nKvHeads_; ++h) total += slotCount(l, h);
  }
  return total;
}

const SlotMap& KvCache::cellMap() const& {
  TORCH_CHECK(pending_ == 0, "KvCache::cellMap during an append");
  return cells_;
}

SlotMap KvCache::cellMap() && {
  TORCH_CHECK(pending_ == 0, "KvCache::cellMap during an append");
  return std::move(cells_);
}

void KvCache::addAttention(int layer, const at::Tensor& perSlot) {
  TORCH_CHECK(perSlot.dim() == 2 && perSlot.size(0) == nKvHeads_ &&
                  perSlot.scalar_type() == at::kDouble && perSlot.is_cpu(),
              "KvCache::addAttention expects [Hkv, Tk] CPU double");
  const at::Tensor a = perSlot.contiguous();
  const double* data = a.data_ptr<double>();
  const int64_t Tk = a.size(1);
  for (int h = 0; h < nKvHeads_; ++h) {
    auto& cells = cells_.slots[layer][h];
    const int64_t n = std::min<int64_t>(Tk, static_cast<int64_t>(cells.size()));
    for (int64_t j = 0; j < n; ++j) cells[j].attention += data[h * Tk + j];
  }
}

void KvCache::setAttention(int layer, const at::Tensor& perSlot) {
  TORCH_CHECK(perSlot.dim() == 2 && perSlot.size(0) == nKvHeads_ &&
                  perSlot.scalar_type() == at::kDouble && perSlot.is_cpu(),
              "KvCache::setAttention expects [Hkv, >= S_h] CPU double");
  const at::Tensor a = perSlot.contiguous();
  const double* data = a.data_ptr<double>();
  const int64_t width = a.size(1);
  for (int h = 0; h < nKvHeads_; ++h) {
    auto& cells = cells_.slots[layer][h];
    TORCH_CHECK(static_cast<int64_t>(cells.size()) <= width,
                "KvCache::setAttention: fewer columns than slots");
    for (size_t j = 0; j < cells.size(); ++j) cells[j].attention = data[h * width + j];
  }
}

int KvCache::capacity(int layer) const {
  return keys_[layer].defined() ? static_cast<int>(keys_[layer].size(1)) : 0;
}

void KvCache::checkCells(int layer, const LayerCells& cells, int64_t rows) const {
  TORCH_CHECK(layer >= 0 && layer < nLayers_, "KvCache: no layer ", layer);
  require(static_cast<int>(cells.heads.size()) == nKvHeads_ &&
              (cells.decisions.empty() || static_cast<int>(cells.decisions.size()) == nKvHeads_),
          "new cells of layer " + std::to_string(layer) + ": one list per KV head expected");
  for (int h = 0; h < nKvHeads_; ++h) {
    const auto& head = cells.heads[h];
    const std::string where =
        "new cells of layer " + std::to_string(layer) + ", head " + std::to_string(h) + ": ";
    require(static_cast<int64_t>(head.size()) <= rows,
            where + std::to_string(head.size()) + " cells for " + std::to_string(rows) + " rows");
    int previousLast = -1;
    for (const Slot& s : head) {
      require(s.first >= 0 && s.first <= s.last && s.last < length_,
              where + "a slot covers positions " + std::to_string(s.first) + ".." +
                  std::to_string(s.last) + " outside the " + std::to_string(length_) + " seen");
      require(s.pivot >= s.first && s.pivot <= s.last, where + "a pivot outside its slot");
      require(s.count >= 1 && s.count <= s.last - s.first + 1,
              where + "a slot merging more tokens than it covers");
      require(s.first > previousLast, where + "slots overlapping or out of token order");
      previousLast = s.last;
    }
  }
}

void KvCache::takeCells(int layer, LayerCells cells) {
  cells_.slots[layer] = std::move(cells.heads);
  if (cells.decisions.empty()) cells.decisions.assign(nKvHeads_, HeadDecision{});
  cells_.decisions[layer] = std::move(cells.decisions);
  slotBias_[layer] = at::Tensor();  // the slots changed: a policy sets a new bias if it wants one
}

int64_t KvCache::elementBytes() const {
  return static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(options_.dtype())));
}

int64_t KvCache::allocatedBytes() const {
  int64_t total = 0;
  for (int l = 0; l < nLayers_; ++l) {
    if (keys_[l].defined()) total += keys_[l].nbytes() + values_[l].nbytes();
  }
  return total;
}

CacheMemory KvCache::memory() const {
  CacheMemory m;
  for (int l = 0; l < nLayers_; ++l) {
    m.layerAllocated.push_back(keys_[l].defined() ? keys_[l].nbytes() + values_[l].nbytes() : 0);
    m.allocated += m.layerAllocated.back();
  }
  const int64_t perSlot = int64_t{2} * headDim_ * elementBytes();  // a key and a value
  m.used = perSlot * totalSlots();
  m.peak = std::max(peakBytes_, m.allocated);
  m.fullPerLayer = perSlot * nKvHeads_ * length_;
  m.full = m.fullPerLayer * nLayers_;
  m.fullAllocated = perSlot * nLayers_ * nKvHeads_ * fullCapacity_;
  if (window_ > 0) {
    m.window.window = window_;
    m.window.trimmed = trimsWindow();
    m.window.droppedSlots = windowDropped_;
    m.window.droppedBytes = perSlot * windowDropped_;
    for (int l = 0; l < nLayers_; ++l) {
      for (int h = 0; h < nKvHeads_; ++h) {
        m.window.maxHeadSlots = std::max(m.window.maxHeadSlots, slotCount(l, h));
      }
    }
    m.window.boundHeadSlots = trimsWindow() ? windowSlotBound(window_) : 0;
  }
  return m;
}

}  // namespace kvs
