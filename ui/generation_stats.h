#pragma once
// What one finished generation reports back to the GUI thread (a value type, no tensors).

#include <QMetaType>
#include <QString>

namespace kvs::ui {

struct GenerationStats {
  int promptTokens = 0;     // BOS included
  int generatedTokens = 0;  // sampled tokens, stop token included
  int steps = 0;            // positions requested
  double prefillMs = 0;
  double decodeTokensPerSecond = 0;
  QString stopReason;        // "steps", "stop_token" or "cancelled" (kvs::toString(StopReason))
  bool regenerated = false;  // a new setting decoded from the kept prefill (no prompt text)
  quint64 ticket = 0;
};

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::ui::GenerationStats)
