#include "cache/kv_cache.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "cache/mapped_storage.h"
#include "model/rope.h"
#include "util/error.h"

namespace kvs {

KvCache::KvCache(const ModelConfig& config, at::TensorOptions options)
    : nLayers_(config.nLayers),
      nKvHeads_(config.nKvHeads),
      headDim_(config.headDim()),
      maxLength_(config.seqLen),
      ropeTheta_(config.ropeTheta),
      ropeScaling_(config.ropeScaling),
      ropeStyle_(config.ropeStyle),
      options_(options),
      keys_(config.nLayers),
      values_(config.nLayers),
      slotBias_(config.nLayers),
      queries_(config.nLayers),
      pendingQueries_(config.nLayers),
      window_(config.slidingWindow) {
  cells_.reset(nLayers_, nKvHeads_);
}

at::Tensor KvCache::allocate(int64_t slots) const {
  // Normal tensors even inside a forward's InferenceMode: compression rewrites the storage in
  // place, possibly outside InferenceMode, where inference tensors refuse in-place updates.
  const c10::InferenceMode normal(false);
  const std::vector<int64_t> shape = {nKvHeads_, slots, headDim_};
  const int64_t bytes =
      nKvHeads_ * slots * headDim_ *
      static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(options_.dtype())));
  constexpr int64_t kLarge = 4 << 20;  // below this, the heap's reused memory is cheaper
  if (!options_.device().is_cpu() || bytes < kLarge) return at::zeros(shape, options_);
  return allocateMapped(shape, options_);
}

KvCache KvCache::clone() const {
  TORCH_CHECK(pending_ == 0, "KvCache::clone during an append");
  KvCache copy = *this;
  for (int l = 0; l < nLayers_; ++l) {
    if (keys_[l].defined()) {  // in the cache's own storage, so the copy compacts in place too
      copy.keys_[l] = allocate(capacity(l)).copy_(keys_[l]);
      copy.values_[l] = allocate(capacity(l)).copy_(values_[l]);
    }
  }
  return copy;
}

at::ScalarType KvCache::scalarType() const {
  return c10::typeMetaToScalarType(options_.dtype());
}

at::Device KvCache::device() const {
  return options_.device();
}

bool KvCache::uniform(int layer) const {
  const auto& heads = cells_.slots[layer];
  for (const auto& h : heads) {
    if (h.size() != heads[0].size()) return false;
  }
  return true;
}

int KvCache::maxSlots(int layer) const {
  size_t longest = 0;
  for (const auto& h : cells_.slots[layer]) longest = std::max(longest, h.size());
  return static_cast<int>(longest) - pending_;
}

namespace {

// The first append (the prompt) gets exactly its size; later growth is by a quarter (at least 64
// slots): doubling would undo what compression freed.
int grownCapacity(int capacity, int needed, int maxLength) {
  if (needed <= capacity) return capacity;
  if (capacity == 0) return needed;
  return std::min(maxLength, std::max(needed, capacity + std::max(64, capacity / 4)));
}

}  // namespace

int KvCache::beginAppend(int n) {
  TORCH_CHECK(pending_ == 0, "KvCache: beginAppend while an append is pending");
  require(n > 0, "KvCache: nothing to append");
  require(length_ + n <= maxLength_, "the sequence would need " + std::to_string(length_ + n) +
                                         " positions but the model's context is " +
                                         std::to_string(maxLength_));
  for (int l = 0; l < nLayers_; ++l) reserve(l, maxSlots(l) + n);
  fullCapacity_ = grownCapacity(fullCapacity_, length_ + n, maxLength_);
  for (auto& layer : cells_.slots) {
    for (auto& head : layer) {
      for (int p = length_; p < length_ + n; ++p) head.push_back(Slot::token(p));
    }
  }
  pending_ = n;
  return length_;
}

void KvCache::reserve(int layer, int needed) {
  const int capacity = this->capacity(layer);
  if (needed <= capacity) return;
  const int grown = grownCapacity(capacity, needed, maxLength_);
  // Zeroed: heads shorter than the longest read padding rows, which the mask hides but which
  // must not hold NaN (NaN * 0 is NaN).
  at::Tensor k = allocate(grown);
  at::Tensor v = allocate(grown);
  peakBytes_ =
      std::max<int64_t>(peakBytes_, allocatedBytes() + k.nbytes() + v.nbytes());  // both, briefly
  const int used = maxSlots(layer);
  if (used > 0) {
    k.narrow(1, 0, used).copy_(keys_[layer].narrow(1, 0, used));
    v.narrow(1, 0, used).copy_(values_[layer].narrow(1, 0, used));
  }
  keys_[layer] = std::move(k);
  values_[layer] = std::move(v);
  if (slotBias_[layer].defined()) {  // new slots get no bias
    at::Tensor bias = at::zeros({nKvHeads_, grown}, options_);
    bias.narrow(1, 0, used).copy_(slotBias_[layer].narrow(1, 0, used));
    slotBias_[layer] = std::move(bias);
  }
}

void KvCache::setSlotBias(int layer, const at::Tensor& bias) {
  TORCH_CHECK(!bias.defined() ||
                  (bias.dim() == 2 && bias.size(0) == nKvHeads_ && bias.size(1) >= maxSlots(layer)),
              "KvCache::setSlotBias expects [Hkv, >= longest head]");
  if (!bias.defined()) {
    slotBias_[layer] = at::Tensor();
    return;
  }
  slotBias_[layer] = at::zeros({nKvHeads_, capacity(layer)}, options_);
  const int64_t n = std::min<int64_t>(bias.size(1), capacity(layer));
  slotBias_[layer].narrow(1, 0, n).copy_(bias.narrow(1, 0, n));
}

void KvCache::write(int layer, const at::Tensor& k, const at::Tensor& v) {
  TORCH_CHECK(pending_ > 0, "KvCache: write without beginAppend");
  TORCH_CHECK(k.dim() == 3 && k.size(0) == pending_ && k.size(1) == nKvHeads_ &&
                  k.size(2) == headDim_ && v.sizes() == k.sizes(),
              "KvCache::write expects k, v as [n, Hkv, D]");
  if (uniform(layer)) {
    const int s = slotCount(layer, 0);
    keys_[layer].narrow(1, s, pending_).copy_(k.transpose(0, 1));
    values_[layer].narrow(1, s, pending_).copy_(v.transpose(0, 1));
    return;
  }
  for (int h = 0; h < nKvHeads_; ++h) {
    const int s = slotCount(layer, h);
    keys_[layer][h].narrow(0, s, pending_).copy_(k.select(1, h));
    values_[layer][h].narrow(0, s, pending_).copy_(v.select(1, h));
  }
}

void KvCache::writeQueries(int layer, const at::Tensor& q) {
  TORCH_CHECK(pending_ > 0 && q.dim() == 3 && q.size(0) == pending_ && q.size(2) == headDim_,
              "KvCache::writeQueries expects q as [n, Hq, D] of the pending tokens");
  if (pending_ == 1) return;
  const int64_t keep = std::min<int64_t>(pending_, kPromptQueries);
  // A copy of the last rows only: q is the forward's whole [n, Hq, D] buffer.
  pendingQueries_[layer] = q.narrow(0, pending_ - keep, keep).transpose(0, 1).clone();
}

at::Tensor KvCache::promptQueries(int layer) const {
  return queriesEnd_ == length_ ? queries_[layer] : at::Tensor();
}

void KvCache::commit() {
  if (pending_ > 1 && pendingQueries_[0].defined()) {
    // A prompt fed in chunks keeps the last rows over all its chunks.
    const bool continues = queriesEnd_ == length_;
    for (int l = 0; l < nLayers_; ++l) {
      at::Tensor q = continues && queries_[l].defined()
                         ? at::cat({queries_[l], pendingQueries_[l]}, 1)
                         : pendingQueries_[l];
      const int64_t W = q.size(1);
      queries_[l] =
          W > kPromptQueries ? q.narrow(1, W - kPromptQueries, kPromptQueries).clone() : q;
      pendingQueries_[l] = at::Tensor();
    }
    queriesEnd_ = length_ + pending_;
  }
  length_ += pending_;
  pending_ = 0;
}

void KvCache::rollback() {
  for (auto& layer : cells_.slots) {
    for (auto& head : layer) head.resize(head.size() - pending_);
  }
  pending_ = 0;
  for (auto& q : pendingQueries_) q = at::Tensor();
}

void KvCache::setRopeShift(int shift) {
  require(shift >= 0 && shift <= length_, "KvCache: RoPE shift beyond the tokens seen");
  ropeShift_ = shift;
}

void KvCache::rotateKeys(int layer, int head, int first, int n, int delta) {
  if (n <= 0 || delta == 0) return;
  require(pending_ == 0 && first >= 0 && first + n <= slotCount(layer, head),
          "KvCache::rotateKeys: slots out of range");
  at::Tensor rows = keys_[layer][head].narrow(0, first, n);  // [n, D]
  const at::Tensor rotated =
      rotateByDelta(rows.to(at::kFloat).unsqueeze(1), delta, ropeTheta_, ropeStyle_,
                    ropeScaling_);  // [n, 1, D]
  rows.copy_(rotated.squeeze(1));
}

void KvCache::clear() {
  length_ = 0;
  queriesEnd_ = -1;
  for (auto& q : queries_) q = at::Tensor();
  ropeShift_ = 0;
  pending_ = 0;
  cells_.reset(nLayers_, nKvHeads_);
  peakBytes_ = allocatedBytes();
  windowDropped_ = 0;
}

at::Tensor KvCache::keys(int layer) const {
  return keys_[layer].narrow(1, 0, maxSlots(layer) + pending_);
}

at::Tensor KvCache::values(int layer) const {
  return values_[layer].narrow(1, 0, maxSlots(layer) + pending_);
}

KvCache::RawLayer KvCache::rawLayer(int layer) {
  for (const at::Tensor* t : {&keys_[layer], &values_[layer]}) {
    TORCH_CHECK(t->device().is_cpu() && t->is_contiguous() && t->scalar_type() == scalarType() &&
                    t->sizes() == keys_[layer].sizes(),
                "KvCache::rawLayer needs contiguous CPU storage of the cache's dtype");
  }
  return {keys_[layer].data_ptr(), values_[layer].data_ptr(), keys_[layer].stride(0),
          maxSlots(layer) + pending_};
}

bool KvCache::masksOnlyCausally(int layer) const {
  return uniform(layer) && !slotBias_[layer].defined();
}

at::Tensor KvCache::attentionMask(int layer, int groupSize) const {
  const int n = pending_;
  const bool biased = slotBias_[layer].defined();
  const bool same = uniform(layer) && !biased;
  if (same && n <= 1) return {};
  const int64_t heads = same ? 1 : nKvHeads_, total = maxSlots(layer) + n;
  std::vector<int64_t> first;
  for (int h = 0; h < heads; ++h) first.push_back(slotCount(layer, h));
  const auto device = options_.device();
  // query i of head h sees slot j when j <= S_h + i
  const at::Tensor lastVisible =
      at::tensor(first, at::kLong).to(device).view({heads, 1, 1}) +
      at::arange(n, at::TensorOptions(at::kLong).device(device)).view({1, n, 1});
  const at::Tensor hidden =
      at::arange(total, at::TensorOptions(at::kLong).device(device)).view({1, 1, total}) >
      lastVisible;
  at::Tensor mask = at::zeros({heads, n, total}, options_);
  if (biased) mask.add_(slotBias_[layer].narrow(1, 0, total).unsqueeze(1));
  mask.masked_fill_(hidden, -INFINITY);
  if (groupSize == 1) return mask;
  return mask.unsqueeze(1)
      .expand({heads, groupSize, n, total})
      .reshape({heads, groupSize * n, total});
}

void KvCache::replaceLayer(int layer, const std::vector<at::Tensor>& keys,
                           const std::vector<at::Tensor>& values, LayerCells cells) {
  TORCH_CHECK(static_cast<int>(keys.size()) == nKvHeads_ && values.size() == keys.size(),
              "KvCache::replaceLayer needs one tensor per KV head");
  int64_t longest = 1;
  for (int h = 0; h < nKvHeads_; ++h) {
    TORCH_CHECK(
        keys[h].dim() == 2 && keys[h].size(1) == headDim_ && values[h].sizes() == keys[h].sizes(),
        "KvCache::replaceLayer expects [S_h, D] per head");
    longest = std::max(longest, keys[h].size(0));
  }
  at::Tensor k = allocate(longest);
  at::Tensor v = allocate(longest);
  for (int h = 0; h < nKvHeads_; ++h) {
    const int64_t rows = keys[h].size(0);
    TORCH_CHECK(h >= static_cast<int>(cells.heads.size()) ||
                    static_cast<int64_t>(cells.heads[h].size()) == rows,
                "KvCache::replaceLayer: head ", h, " has ", rows, " rows but ",
                cells.heads[h].size(), " cells");
    k[h].narrow(0, 0, rows).copy_(keys[h]);
    v[h].narrow(0, 0, rows).copy_(values[h]);
  }
  replaceLayer(layer, std::move(k), std::move(v), std::move(cells));
}

void KvCache::replaceLayer(int layer, at::Tensor keys, at::Tensor values, LayerCells cells) {
  TORCH_CHECK(pending_ == 0, "KvCache::replaceLayer during an append");
  TORCH_CHECK(keys.dim() == 3 && keys.size(0) == nKvHeads_ && keys.size(2) == headDim_ &&
                  values.sizes() == keys.sizes(),
              "KvCache::replaceLayer expects [Hkv, S, D]");
  checkCells(layer, cells, keys.size(1));
  // Old and new storage coexist until the assignment below frees the old.
  peakBytes_ = std::max<int64_t>(peakBytes_, allocatedBytes() + keys.nbytes() + values.nbytes());
  keys_[layer] = std::move(keys);
  values_[layer] = std::move(values);
  takeCells(layer, std::move(cells));
}

bool KvCache::exclusive(int layer) const {
  // Nothing else (a view, a shallow KvCache copy) may see the storage change under it.
  for (const at::Tensor* t : {&keys_[layer], &values_[layer]}) {
    if (!t->defined() || t->is_inference() || t->use_count() != 1 ||
        t->storage().use_count() != 1 || !t->is_contiguous() || t->storage_offset() != 0) {
      return false;
    }
  }
  return true;
}

bool KvCache::rewriteLayerInPlace(int layer, int capacity, const LayerCells& cells,
                                  const LayerRewrite& rewrite) {
  TORCH_CHECK(pending_ == 0, "KvCache::rewriteLayerInPlace during an append");
  checkCells(layer, cells, capacity);
  if (!options_.device().is_cpu() || capacity > this->capacity(layer) || !exclusive(layer)) {
    return false;
  }
  rewrite(keys_[layer], values_[layer]);
  const std::vector<int64_t> shape = {nKvHeads_, capacity, headDim_};
  for (at::Tensor* t : {&keys_[layer], &values_[layer]}) {
    at::Tensor dense =
        t->view(-1).narrow(0, 0, nKvHeads_ * int64_t{capacity} * headDim_).view(shape);
    for (int h = 0; h < nKvHeads_; ++h) {  // padding: the mask hides it, but NaN * 0 is NaN
      const int rows = static_cast<int>(cells.heads[h].size());
      if (rows < capacity) dense[h].narrow(0, rows, capacity - rows).zero_();
    }
    if (isMapped(*t)) {
      dense.reset();
      *t = shrinkMapped(std::move(*t), shape);
    } else {  // a small heap block: move the dense part into storage of its own
      at::Tensor fresh = allocate(capacity).copy_(dense);
      peakBytes_ = std::max<int64_t>(peakBytes_, allocatedBytes() + fresh.nbytes());
      dense.reset();
      *t = std::move(fresh);
    }
  }
  takeCells(layer, cells);
  return true;
}

}  // namespace kvs
