#pragma once
// What the user asks one generation for: a value type, so it can cross into the worker thread.

#include <QMetaType>
#include <QString>

namespace kvs::ui {

struct GenerationJob {
  QString prompt;            // blank: generate from BOS alone
  int steps = 256;           // positions including the prompt's, as the CLI's --steps
  double temperature = 0.0;  // 0 = greedy, so the default run is reproducible
  double topP = 0.9;
  quint64 seed = 42;
  bool chat = false;  // wrap the prompt in the Llama-2-chat format (as the CLI's --chat)
  QString system;     // its system prompt, when chat
};

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::ui::GenerationJob)
