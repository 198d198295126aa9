#pragma once
// What the user asks one generation for: a value type, so it can cross into the worker thread.

#include <QMetaType>
#include <QString>

#include "session/request.h"

namespace kvs::ui {

struct GenerationJob {
  QString prompt;  // blank: generate from BOS alone
  // Tokens to generate after the prompt (capped at the context, as the token counter shows); the
  // CLI's --steps counts positions instead, the prompt's included, as llama2.c's -n does.
  int newTokens = 256;
  double temperature = 0.0;  // 0 = greedy, so the default run is reproducible
  double topP = 0.9;
  quint64 seed = 42;
  bool chat = false;  // wrap the prompt in the Llama-2-chat format (as the CLI's --chat)
  QString system;     // its system prompt, when chat
};

// The job as the core's PromptSpec, in the app's terms (a blank prompt outside the chat format
// generates from BOS alone): what a run requests and what the prompt's token counter counts.
inline PromptSpec promptSpecOf(const GenerationJob& job) {
  PromptSpec spec;
  spec.text = job.prompt.toStdString();
  spec.chat = job.chat;
  spec.system = job.system.toStdString();
  spec.bosOnly = !job.chat && spec.text.find_first_not_of(" \t\r\n") == std::string::npos;
  spec.newTokens = job.newTokens;
  spec.sampling.temperature = static_cast<float>(job.temperature);
  spec.sampling.topP = static_cast<float>(job.topP);
  spec.sampling.seed = job.seed;
  spec.newTokensName = "New tokens";
  spec.promptFix = "type a prompt";
  return spec;
}

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::ui::GenerationJob)
