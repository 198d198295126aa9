#pragma once
// The Llama-2-chat prompt format, as Meta's reference chat_completion builds it:
//   each finished exchange:  BOS "[INST] {user} [/INST] {answer} " EOS
//   the open one (last):     BOS "[INST] {user} [/INST]"
// and a system prompt, when given, goes inside the first [INST]:
//   "[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]"
// Contents are stripped of surrounding whitespace, as the reference does.

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace kvs {

struct ChatTurn {
  std::string user;
  std::string assistant;  // empty for the last turn, which the model answers
};

// The text of turn `index` (no BOS/EOS); the system prompt only goes into turn 0.
std::string llama2ChatText(const std::string& system, const std::vector<ChatTurn>& turns,
                           size_t index);

// Token ids of the whole conversation, BOS/EOS per turn. KvsError when there are no turns, a user
// message is empty, or the last turn already has an answer.
std::vector<int> encodeLlama2Chat(const Tokenizer& tokenizer, const std::string& system,
                                  const std::vector<ChatTurn>& turns);

}  // namespace kvs
