#pragma once
// Mistral's sliding window and the cache: whether slots no query can see any more are dropped,
// and what that saved. Plain data (no LibTorch) so that results and the GUI's value types can
// carry it.

#include <cstdint>
#include <string>

namespace kvs {

// What a cache does with the slots outside a model's sliding window (ModelConfig::slidingWindow).
// kTrim (the default): they are dropped, since no current or future query can see them
// (compress/window_trim.h), so the cache holds about W slots per head. kKeep: every slot stays
// and the window is only a mask (for checking that the trim changes nothing). No effect on a
// model without a window.
enum class WindowCache { kTrim, kKeep };

inline const char* toString(WindowCache w) {
  return w == WindowCache::kKeep ? "keep" : "trim";
}

// What the window did to one cache, for reports, the memory panel and the CLI's summary.
struct WindowFigures {
  int window = 0;            // the model's sliding window W; 0: it has none (nothing below applies)
  bool trimmed = false;      // WindowCache::kTrim: slots outside the window are dropped
  int64_t droppedSlots = 0;  // slots dropped by the window so far, over every (layer, KV head)
  int64_t droppedBytes = 0;  // the keys and values those slots held (what keeping them would cost)
  int maxHeadSlots = 0;      // the most slots one (layer, KV head) holds now
  int boundHeadSlots = 0;    // the most slots one (layer, KV head) can hold while trimming,
                             // the token of a forward pass included (windowSlotBound)
};

}  // namespace kvs
