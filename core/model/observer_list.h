#pragma once
// Fans the taps of one forward pass out to several observers (e.g. the attention tracker of a
// compression policy and a recorder), in order. Null entries are skipped.

#include <vector>

#include "model/layer_observer.h"

namespace kvs {

class ObserverList : public LayerObserver {
 public:
  explicit ObserverList(std::vector<LayerObserver*> observers);

  void beginForward(int firstPos, int n) override;
  void onTensor(int layer, const std::string& name, const at::Tensor& tensor) override;
  bool wantsAttention() const override;
  bool empty() const { return observers_.empty(); }

 private:
  std::vector<LayerObserver*> observers_;
};

}  // namespace kvs
