#include "model/observer_list.h"

#include <algorithm>

namespace kvs {

ObserverList::ObserverList(std::vector<LayerObserver*> observers) {
  for (LayerObserver* o : observers) {
    if (o) observers_.push_back(o);
  }
}

void ObserverList::beginForward(int firstPos, int n) {
  for (LayerObserver* o : observers_) o->beginForward(firstPos, n);
}

void ObserverList::onTensor(int layer, const std::string& name, const at::Tensor& tensor) {
  // "attn" is computed when any observer wants it; only those that want it get it.
  const bool attention = name == "attn";
  for (LayerObserver* o : observers_) {
    if (!attention || o->wantsAttention()) o->onTensor(layer, name, tensor);
  }
}

bool ObserverList::wantsAttention() const {
  return std::any_of(observers_.begin(), observers_.end(),
                     [](const LayerObserver* o) { return o->wantsAttention(); });
}

}  // namespace kvs
