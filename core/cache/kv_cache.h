#pragma once
// KvCache: keys and values per layer, the cells that say what each slot stands for, and the
// queries of the prompt's last tokens for methods that score by an observation window (SnapKV).
// It never decides what to keep: compression policies (core/compress) read it and hand it new
// layers with their cells (compression_plan.h); it checks that what it is given is consistent.
//
// After compression each (layer, KV head) may hold a different number of slots S_h. A layer is
// stored as one padded tensor [Hkv, capacity, D]: head h uses slots 0 .. S_h-1, the rest is
// padding that attentionMask() hides. Compression rewrites a layer in place into a smaller
// [Hkv, capacity', D] block and unmaps the rest (or, where that is impossible, moves it into new
// storage), so the memory is really freed (up to the padding of heads shorter than the longest).

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

#include "cache/slot_map.h"
#include "cache/window_figures.h"
#include "model/model_config.h"

namespace kvs {

// What a cache holds, in bytes: one snapshot for reports, memory plots and benchmarks.
struct CacheMemory {
  int64_t allocated = 0;      // the tensors' capacity now, padding and growth headroom included
  int64_t used = 0;           // the slots held, without padding and headroom
  int64_t peak = 0;           // the most allocated at any moment since construction or clear()
  int64_t full = 0;           // a full cache of every token seen, without headroom
  int64_t fullAllocated = 0;  // what a never-compressed cache would have allocated for the same
                              // appends, headroom included: the fair comparison for `allocated`
  std::vector<int64_t> layerAllocated;  // [L] of `allocated`
  int64_t fullPerLayer = 0;             // a full layer of every token seen
  WindowFigures window;                 // what Mistral's sliding window dropped (window 0: none)
};

class KvCache {
 public:
  explicit KvCache(const ModelConfig& config, at::TensorOptions options = at::kFloat);
  // Copies share storage; clone() makes an independent cache (to try several variants from one
  // prefill).
  KvCache clone() const;

  // Tokens seen: the absolute position of the next token (not the number of slots held).
  int length() const { return length_; }
  int maxLength() const { return maxLength_; }
  int nLayers() const { return nLayers_; }
  int nKvHeads() const { return nKvHeads_; }
  int headDim() const { return headDim_; }
  at::ScalarType scalarType() const;  // of keys and values
  at::Device device() const;          // where they are
  // Slots held by (layer, head); equals length() until the cache is compressed.
  int slotCount(int layer, int head) const;
  std::vector<int> slotCounts(int layer) const;  // [Hkv]
  int totalSlots() const;

  // The cells of (layer, head): what each slot stands for (positions covered, pivot, tokens
  // merged, accumulated attention), [S_h] in token order; during an append the pending tokens'
  // cells follow, one token each. Appends add cells, compression replaces them (replaceLayer).
  const std::vector<Slot>& cells(int layer, int head) const { return cells_.slots[layer][head]; }
  // How the last compression of (layer, head) was decided (NaN eps where none applied).
  const HeadDecision& decision(int layer, int head) const { return cells_.decisions[layer][head]; }
  // Every cell and decision, as plain data for results and recordings (no pending append).
  const SlotMap& cellMap() const&;
  SlotMap cellMap() &&;  // moved out of a cache about to be destroyed
  // Adds attention paid to a layer's slots: perSlot [Hkv, Tk] (CPU double), column j to cell j
  // of each head, the pending tokens' cells included (columns past a head's cells: padding).
  void addAttention(int layer, const at::Tensor& perSlot);
  // Sets the accumulated attention of a layer's cells from perSlot [Hkv, >= S_h] (CPU double).
  void setAttention(int layer, const at::Tensor& perSlot);
  // Token slots the storage of a layer holds without growing.
  int capacity(int layer) const;

  // Starts an append of n tokens at positions length() .. length()+n-1; each head writes them
  // after its own slots. Throws KvsError past the model's context.
  int beginAppend(int n);
  // k, v: [n, Hkv, D] for the pending tokens of one layer.
  void write(int layer, const at::Tensor& k, const at::Tensor& v);
  // q: [n, Hq, D], the pending tokens' queries after RoPE. Kept only for appends of several
  // tokens (a prompt), the last kPromptQueries of them: a decode step writes nothing, so decoding
  // costs nothing extra.
  static constexpr int kPromptQueries = 128;
  void writeQueries(int layer, const at::Tensor& q);
  // [Hq, W, D] in the compute dtype: the queries of the last W <= kPromptQueries tokens appended
  // by multi-token appends, oldest first, if the most recent such append ended at length();
  // undefined otherwise (a decode step came after it, or none was made).
  at::Tensor promptQueries(int layer) const;

  // Keeps the pending tokens, or drops them (e.g. after a cancelled forward).
  void commit();
  void rollback();
  void clear();

  // [Hkv, Smax + pending, D] views into the storage, Smax = the layer's longest head.
  at::Tensor keys(int layer) const;
  at::Tensor values(int layer) const;
  // Additive mask for the pending tokens' queries over keys(layer), repeated for the G query
  // heads of each KV head: [1 or Hkv, G*n, Smax+n], 0 where query i of head h may attend (its
  // head's slots, and the pending slots up to its own), -inf elsewhere. Undefined when nothing
  // needs masking (one token, all heads of the layer equally long).
  at::Tensor attentionMask(int layer, int groupSize) const;
  // True when attentionMask hides nothing but causality (all heads of the layer equally long, no
  // slot bias): pending query i sees slots up to Smax + i, the same for every head.
  bool masksOnlyCausally(int layer) const;

  // The new cells (slot_map.h) of a replaced layer are checked against the cache: KvsError
  // naming the broken rule (positions not seen, a pivot outside its slot, slots out of order).
  // Replaces a layer's contents with keys[h], values[h] [S_h, D] per KV head and reallocates its
  // storage to fit them (no pending append allowed); cells.heads[h] has S_h cells.
  void replaceLayer(int layer, const std::vector<at::Tensor>& keys,
                    const std::vector<at::Tensor>& values, LayerCells cells);
  // The same from a layer already laid out as storage: keys, values [Hkv, S, D], head h holding
  // cells.heads[h].size() <= S rows (the rest zero padding). The tensors are adopted, not copied.
  void replaceLayer(int layer, at::Tensor keys, at::Tensor values, LayerCells cells);

  // Rewrites a layer in place, with no new storage: rewrite(keys, values) gets the layer's
  // storage as [Hkv, capacity(layer), D] tensors and must leave it holding the new layer densely
  // as [Hkv, capacity, D] from its first element on (head h's slot s at flat row
  // h * capacity + s), with cells.heads[h].size() rows per head; padding rows need not be
  // written. The cache then zeroes the padding, gives the storage past the new block back and
  // takes the cells. Returns false, calling nothing and taking nothing, when the layer cannot be
  // rewritten in place (not on the CPU, its storage shared with another tensor or cache, or
  // capacity larger than the current one).
  using LayerRewrite = std::function<void(const at::Tensor& keys, const at::Tensor& values)>;
  bool rewriteLayerInPlace(int layer, int capacity, const LayerCells& cells,
                           const LayerRewrite& rewrite);

  // A layer's storage as raw memory, for model/cpu_decode_step.h, which attends without tensor
  // ops: head h's slot s at element h * headStride + s * headDim() of keys (values alike), of
  // scalarType(); slots = the longest head's slots plus the pending ones (keys(layer)'s Tk).
  // A CPU cache only.
  struct RawLayer {
    void* keys;
    void* values;
    int64_t headStride;
    int slots;
  };
  RawLayer rawLayer(int layer);

  // RoPE positions: the tokens of an append are rotated at positions length() - ropeShift() on.
  // 0 (every key at its token's own position) unless a policy re-assigns positions inside the
  // cache, as StreamingLLM's authors do: then slot s holds a key rotated at position s.
  int ropeShift() const { return ropeShift_; }
  void setRopeShift(int shift);
  // Rotates the keys of slots first .. first+n-1 of (layer, head) by delta positions (negative:
  // back), in float32, with the model's RoPE.
  void rotateKeys(int layer, int head, int first, int n, int delta);

  // An attention-logit bias per slot of a layer, [Hkv, slots >= the longest head] (KVMerger's
  // optional +log(n) for merged slots); added by attentionMask(). Undefined tensor: none.
  void setSlotBias(int layer, const at::Tensor& bias);

  // Zeroed storage for one layer's keys or values, [Hkv, slots, D], on the cache's device; large
  // CPU blocks are mapped (cache/mapped_storage.h).
  at::Tensor allocate(int64_t slots) const;

  CacheMemory memory() const;

  // Mistral's sliding window (ModelConfig::slidingWindow; 0: none) and what the cache does with
  // the slots outside it: kTrim (the default) lets compress/window_trim.h drop them, kKeep keeps
  // them behind the mask. The cache only records; it never drops a slot by itself.
  int window() const { return window_; }
  WindowCache windowCache() const { return windowCache_; }
  void setWindowCache(WindowCache mode) { windowCache_ = mode; }
  bool trimsWindow() const { return window_ > 0 && windowCache_ == WindowCache::kTrim; }
  // Counts slots the window trim dropped, for memory().window.
  void countWindowDropped(int64_t slots) { windowDropped_ += slots; }

 private:
  bool uniform(int layer) const;
  int maxSlots(int layer) const;
  void reserve(int layer, int needed);
  bool exclusive(int layer) const;
  int64_t allocatedBytes() const;
  int64_t elementBytes() const;
  void checkCells(int layer, const LayerCells& cells, int64_t rows) const;
  void takeCells(int layer, LayerCells cells);

  int nLayers_, nKvHeads_, headDim_, maxLength_;
  float ropeTheta_;
  RopeScaling ropeScaling_;
  RopeStyle ropeStyle_;
  int ropeShift_ = 0;
  at::TensorOptions options_;
  int length_ = 0;
  int pending_ = 0;
  int fullCapacity_ = 0;            // per layer, of a never-compressed cache with the same appends
  SlotMap cells_;                   // [L][Hkv][S_h (+ pending)]
  std::vector<at::Tensor> keys_;    // per layer [Hkv, capacity, D]
  std::vector<at::Tensor> values_;  // per layer [Hkv, capacity, D]
  std::vector<at::Tensor> slotBias_;        // per layer [Hkv, capacity] or undefined
  std::vector<at::Tensor> queries_;         // per layer [Hq, W, D] or undefined
  std::vector<at::Tensor> pendingQueries_;  // per layer [Hq, n, D] of the append in progress
  int queriesEnd_ = -1;                     // length() when queries_ was last completed
  int64_t peakBytes_ = 0;
  int window_ = 0;
  WindowCache windowCache_ = WindowCache::kTrim;
  int64_t windowDropped_ = 0;  // slots, over every (layer, KV head), since construction or clear()
};

}  // namespace kvs
