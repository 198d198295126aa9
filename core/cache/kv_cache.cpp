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
      ropeStyle_(config.ropeStyle),
      options_(options),
      slots_(config.nLayers, std::vector<int>(config.nKvHeads, 0)),
      keys_(config.nLayers),
      values_(config.nLayers),
      slotBias_(config.nLayers),
      queries_(config.nLayers),
      pendingQueries_(config.nLayers) {}

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

int KvCache::totalSlots() const {
  int total = 0;
  for (const auto& layer : slots_) {
    for (int s : layer) total += s;
  }
  return total;
}

int KvCache::capacity(int layer) const {
  return keys_[layer].defined() ? static_cast<int>(keys_[layer].size(1)) : 0;
}

bool KvCache::uniform(int layer) const {
  const auto& s = slots_[layer];
  return std::all_of(s.begin(), s.end(), [&](int v) { return v == s[0]; });
}

int KvCache::maxSlots(int layer) const {
  return *std::max_element(slots_[layer].begin(), slots_[layer].end());
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
      std::max<int64_t>(peakBytes_, bytes() + k.nbytes() + v.nbytes());  // old and new, briefly
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
  const auto& s = slots_[layer];
  if (uniform(layer)) {
    keys_[layer].narrow(1, s[0], pending_).copy_(k.transpose(0, 1));
    values_[layer].narrow(1, s[0], pending_).copy_(v.transpose(0, 1));
    return;
  }
  for (int h = 0; h < nKvHeads_; ++h) {
    keys_[layer][h].narrow(0, s[h], pending_).copy_(k.select(1, h));
    values_[layer][h].narrow(0, s[h], pending_).copy_(v.select(1, h));
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
  for (auto& layer : slots_) {
    for (int& s : layer) s += pending_;
  }
  length_ += pending_;
  pending_ = 0;
}

void KvCache::rollback() {
  pending_ = 0;
  for (auto& q : pendingQueries_) q = at::Tensor();
}

void KvCache::setRopeShift(int shift) {
  require(shift >= 0 && shift <= length_, "KvCache: RoPE shift beyond the tokens seen");
  ropeShift_ = shift;
}

void KvCache::rotateKeys(int layer, int head, int first, int n, int delta) {
  if (n <= 0 || delta == 0) return;
  require(pending_ == 0 && first >= 0 && first + n <= slots_[layer][head],
          "KvCache::rotateKeys: slots out of range");
  at::Tensor rows = keys_[layer][head].narrow(0, first, n);  // [n, D]
  const at::Tensor rotated =
      rotateByDelta(rows.to(at::kFloat).unsqueeze(1), delta, ropeTheta_, ropeStyle_);  // [n,1,D]
  rows.copy_(rotated.squeeze(1));
}

void KvCache::clear() {
  length_ = 0;
  queriesEnd_ = -1;
  for (auto& q : queries_) q = at::Tensor();
  ropeShift_ = 0;
  pending_ = 0;
  for (auto& layer : slots_) std::fill(layer.begin(), layer.end(), 0);
  peakBytes_ = bytes();
}

at::Tensor KvCache::keys(int layer) const {
  return keys_[layer].narrow(1, 0, maxSlots(layer) + pending_);
}

at::Tensor KvCache::values(int layer) const {
  return values_[layer].narrow(1, 0, maxSlots(layer) + pending_);
}

at::Tensor KvCache::attentionMask(int layer, int groupSize) const {
  const int n = pending_;
  const bool biased = slotBias_[layer].defined();
  const bool same = uniform(layer) && !biased;
  if (same && n <= 1) return {};
  const int64_t heads = same ? 1 : nKvHeads_, total = maxSlots(layer) + n;
  const std::vector<int64_t> first(slots_[layer].begin(), slots_[layer].begin() + heads);
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
                           const std::vector<at::Tensor>& values) {
  TORCH_CHECK(static_cast<int>(keys.size()) == nKvHeads_ && values.size() == keys.size(),
              "KvCache::replaceLayer needs one tensor per KV head");
  int longest = 1;
  std::vector<int> slots;
  for (int h = 0; h < nKvHeads_; ++h) {
    TORCH_CHECK(
        keys[h].dim() == 2 && keys[h].size(1) == headDim_ && values[h].sizes() == keys[h].sizes(),
        "KvCache::replaceLayer expects [S_h, D] per head");
    slots.push_back(static_cast<int>(keys[h].size(0)));
    longest = std::max(longest, slots.back());
  }
  at::Tensor k = allocate(longest);
  at::Tensor v = allocate(longest);
  for (int h = 0; h < nKvHeads_; ++h) {
    k[h].narrow(0, 0, slots[h]).copy_(keys[h]);
    v[h].narrow(0, 0, slots[h]).copy_(values[h]);
  }
  replaceLayer(layer, std::move(k), std::move(v), slots);
}

void KvCache::replaceLayer(int layer, at::Tensor keys, at::Tensor values,
                           const std::vector<int>& slots) {
  TORCH_CHECK(pending_ == 0, "KvCache::replaceLayer during an append");
  TORCH_CHECK(keys.dim() == 3 && keys.size(0) == nKvHeads_ && keys.size(2) == headDim_ &&
                  values.sizes() == keys.sizes() && static_cast<int>(slots.size()) == nKvHeads_,
              "KvCache::replaceLayer expects [Hkv, S, D] and one slot count per head");
  for (int s : slots) TORCH_CHECK(s >= 0 && s <= keys.size(1), "slot count beyond the storage");
  // Old and new storage coexist until the assignment below frees the old.
  peakBytes_ = std::max<int64_t>(peakBytes_, bytes() + keys.nbytes() + values.nbytes());
  keys_[layer] = std::move(keys);
  values_[layer] = std::move(values);
  slots_[layer] = slots;
  slotBias_[layer] = at::Tensor();  // the slots changed: a policy sets a new bias if it wants one
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

bool KvCache::rewriteLayerInPlace(int layer, int capacity, const std::vector<int>& slots,
                                  const LayerRewrite& rewrite) {
  TORCH_CHECK(pending_ == 0, "KvCache::rewriteLayerInPlace during an append");
  TORCH_CHECK(static_cast<int>(slots.size()) == nKvHeads_, "one slot count per KV head");
  for (int s : slots) TORCH_CHECK(s >= 0 && s <= capacity, "slot count beyond the capacity");
  if (!options_.device().is_cpu() || capacity > this->capacity(layer) || !exclusive(layer)) {
    return false;
  }
  rewrite(keys_[layer], values_[layer]);
  const std::vector<int64_t> shape = {nKvHeads_, capacity, headDim_};
  for (at::Tensor* t : {&keys_[layer], &values_[layer]}) {
    at::Tensor dense =
        t->view(-1).narrow(0, 0, nKvHeads_ * int64_t{capacity} * headDim_).view(shape);
    for (int h = 0; h < nKvHeads_; ++h) {  // padding: the mask hides it, but NaN * 0 is NaN
      if (slots[h] < capacity) dense[h].narrow(0, slots[h], capacity - slots[h]).zero_();
    }
    if (isMapped(*t)) {
      dense.reset();
      *t = shrinkMapped(std::move(*t), shape);
    } else {  // a small heap block: move the dense part into storage of its own
      at::Tensor fresh = allocate(capacity).copy_(dense);
      peakBytes_ = std::max<int64_t>(peakBytes_, bytes() + fresh.nbytes());
      dense.reset();
      *t = std::move(fresh);
    }
  }
  slots_[layer] = slots;
  slotBias_[layer] = at::Tensor();  // the slots changed: a policy sets a new bias if it wants one
  return true;
}

int64_t KvCache::layerBytes(int layer) const {
  return keys_[layer].defined() ? keys_[layer].nbytes() + values_[layer].nbytes() : 0;
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (int l = 0; l < nLayers_; ++l) total += layerBytes(l);
  return total;
}

int64_t KvCache::fullLayerBytes() const {
  return int64_t{2} * nKvHeads_ * length_ * headDim_ *
         static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(options_.dtype())));
}

int64_t KvCache::usedBytes() const {
  return int64_t{2} * headDim_ * totalSlots() *
         static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(options_.dtype())));
}

int64_t KvCache::fullAllocatedBytes() const {
  return int64_t{2} * nLayers_ * nKvHeads_ * fullCapacity_ * headDim_ *
         static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(options_.dtype())));
}

int64_t KvCache::fullBytes() const {
  return fullLayerBytes() * nLayers_;
}

}  // namespace kvs
