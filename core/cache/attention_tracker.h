#pragma once
// Keeps each slot's accumulated attention (H2O's score) up to date: every forward pass adds the
// attention its queries paid to each slot, reduced over the query heads of a KV head (GQA), to
// the cache's cells. It only adds attention; the cache appends and replaces the cells.

#include <ATen/core/Tensor.h>

#include "compress/compression_params.h"
#include "model/layer_observer.h"

namespace kvs {

class KvCache;

// attention [Hq, n, Tk] (softmax rows of n queries) summed over the queries and reduced over
// the G query heads of each KV head: [Hkv, Tk], CPU double.
at::Tensor reduceAttention(const at::Tensor& attention, int groupSize, GqaReduction reduction);

class AttentionTracker : public LayerObserver {
 public:
  AttentionTracker(KvCache& cache, int groupSize, GqaReduction reduction)
      : cache_(cache), groupSize_(groupSize), reduction_(reduction) {}

  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override;
  bool wantsAttention() const override { return true; }

 private:
  KvCache& cache_;
  int groupSize_;
  GqaReduction reduction_;
};

}  // namespace kvs
