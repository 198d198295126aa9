#pragma once
// Chat prompt formats. The tokenizer decides which (encodeChat): a vocabulary with Llama 3's
// header tokens gets Llama 3's format, one with <|im_start|> ChatML (Qwen2, Qwen2.5, Qwen3), any
// other Llama 2's (SentencePiece models: Llama 2, Mistral).
//
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

enum class ChatFormat { kLlama2, kLlama3, kChatMl };

// The format of tokenizer's model family, from its special tokens.
ChatFormat chatFormatOf(const Tokenizer& tokenizer);
const char* chatFormatName(ChatFormat format);  // "Llama 2", "Llama 3", "ChatML"

// The whole conversation as the model families' own chat templates write it, ending with the
// assistant's header for the model to answer (add_generation_prompt):
//   Llama 3 (its tokenizer_config.json's template; contents trimmed):
//     <|begin_of_text|>[<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>]
//     per turn <|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>
//              [<|start_header_id|>assistant<|end_header_id|>\n\n{answer}<|eot_id|>]
//     then     <|start_header_id|>assistant<|end_header_id|>\n\n
//   ChatML (Qwen3's template without tools; contents as given):
//     [<|im_start|>system\n{system}<|im_end|>\n]
//     per turn <|im_start|>user\n{user}<|im_end|>\n[<|im_start|>assistant\n{answer}<|im_end|>\n]
//     then     <|im_start|>assistant\n
// (Qwen2 and Qwen2.5's templates add a default system prompt when none is given; give it with
// --system to match them.) Not for kLlama2, whose turns are tokenized one by one.
std::string chatText(ChatFormat format, const std::string& system,
                     const std::vector<ChatTurn>& turns);

// The conversation's ids in the tokenizer's format (chatFormatOf); the same checks as
// encodeLlama2Chat.
std::vector<int> encodeChat(const Tokenizer& tokenizer, const std::string& system,
                            const std::vector<ChatTurn>& turns);

}  // namespace kvs
