#pragma once
// Keeps each slot's accumulated attention (H2O's score) up to date: every forward pass adds the
// attention its queries paid to each slot, reduced over the query heads of a KV head (GQA).

#include "cache/slot_map.h"
#include "compress/compression_params.h"
#include "model/layer_observer.h"

namespace kvs {

class AttentionTracker : public LayerObserver {
 public:
  AttentionTracker(SlotMap& map, int groupSize, GqaReduction reduction)
      : map_(map), groupSize_(groupSize), reduction_(reduction) {}

  void beginForward(int firstPos, int n) override { map_.appendTokens(firstPos, n); }
  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override;
  bool wantsAttention() const override { return true; }

 private:
  SlotMap& map_;
  int groupSize_;
  GqaReduction reduction_;
};

}  // namespace kvs
