#include "tokenizer/chat_template.h"

#include "util/error.h"

namespace kvs {
namespace {

std::string strip(const std::string& s) {
  const char* space = " \t\r\n";
  const size_t first = s.find_first_not_of(space);
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

}  // namespace

std::string llama2ChatText(const std::string& system, const std::vector<ChatTurn>& turns,
                           size_t index) {
  const ChatTurn& turn = turns.at(index);
  std::string user = strip(turn.user);
  const std::string sys = strip(system);
  if (index == 0 && !sys.empty()) user = "<<SYS>>\n" + sys + "\n<</SYS>>\n\n" + user;
  std::string text = "[INST] " + user + " [/INST]";
  if (index + 1 < turns.size()) text += " " + strip(turn.assistant) + " ";
  return text;
}

std::vector<int> encodeLlama2Chat(const Tokenizer& tokenizer, const std::string& system,
                                  const std::vector<ChatTurn>& turns) {
  require(!turns.empty(), "chat: no user message; pass --prompt TEXT");
  require(strip(turns.back().assistant).empty(),
          "chat: the last turn must be a user message for the model to answer");
  const int bos = tokenizer.bosId(), eos = tokenizer.eosId();
  require(bos >= 0 && eos >= 0, "chat: tokenizer " + tokenizer.path() +
                                    " has no BOS/EOS ids, which the Llama-2-chat format needs");
  std::vector<int> ids;
  for (size_t i = 0; i < turns.size(); ++i) {
    require(!strip(turns[i].user).empty(),
            "chat: user message " + std::to_string(i + 1) + " is empty; pass some text");
    ids.push_back(bos);
    const std::vector<int> text = tokenizer.encode(llama2ChatText(system, turns, i), false);
    ids.insert(ids.end(), text.begin(), text.end());
    if (i + 1 < turns.size()) ids.push_back(eos);
  }
  return ids;
}

ChatFormat chatFormatOf(const Tokenizer& tokenizer) {
  if (tokenizer.kind() != TokenizerKind::kByteLevelBpe) return ChatFormat::kLlama2;
  if (tokenizer.pieceId("<|start_header_id|>") >= 0 && tokenizer.pieceId("<|eot_id|>") >= 0) {
    return ChatFormat::kLlama3;
  }
  if (tokenizer.pieceId("<|im_start|>") >= 0 && tokenizer.pieceId("<|im_end|>") >= 0) {
    return ChatFormat::kChatMl;
  }
  throw KvsError("chat: the tokenizer " + tokenizer.path() +
                 " has neither Llama 3's header tokens nor ChatML's <|im_start|>, so its chat "
                 "format is not known; leave out --chat and write the format into the prompt");
}

const char* chatFormatName(ChatFormat format) {
  switch (format) {
    case ChatFormat::kLlama2:
      return "Llama 2";
    case ChatFormat::kLlama3:
      return "Llama 3";
    case ChatFormat::kChatMl:
      return "ChatML";
  }
  return "?";
}

std::string chatText(ChatFormat format, const std::string& system,
                     const std::vector<ChatTurn>& turns) {
  require(format != ChatFormat::kLlama2, "chatText: Llama 2's turns are tokenized one by one");
  std::string text;
  if (format == ChatFormat::kLlama3) {
    const auto header = [](const char* role) {
      return std::string("<|start_header_id|>") + role + "<|end_header_id|>\n\n";
    };
    text = "<|begin_of_text|>";
    if (!strip(system).empty()) text += header("system") + strip(system) + "<|eot_id|>";
    for (size_t i = 0; i < turns.size(); ++i) {
      text += header("user") + strip(turns[i].user) + "<|eot_id|>";
      if (i + 1 < turns.size())
        text += header("assistant") + strip(turns[i].assistant) + "<|eot_id|>";
    }
    return text + header("assistant");
  }
  if (!system.empty()) text += "<|im_start|>system\n" + system + "<|im_end|>\n";
  for (size_t i = 0; i < turns.size(); ++i) {
    text += "<|im_start|>user\n" + turns[i].user + "<|im_end|>\n";
    if (i + 1 < turns.size())
      text += "<|im_start|>assistant\n" + turns[i].assistant + "<|im_end|>\n";
  }
  return text + "<|im_start|>assistant\n";
}

std::vector<int> encodeChat(const Tokenizer& tokenizer, const std::string& system,
                            const std::vector<ChatTurn>& turns) {
  const ChatFormat format = chatFormatOf(tokenizer);
  if (format == ChatFormat::kLlama2) return encodeLlama2Chat(tokenizer, system, turns);
  require(!turns.empty(), "chat: no user message; pass --prompt TEXT");
  require(strip(turns.back().assistant).empty(),
          "chat: the last turn must be a user message for the model to answer");
  for (size_t i = 0; i < turns.size(); ++i) {
    require(!strip(turns[i].user).empty(),
            "chat: user message " + std::to_string(i + 1) + " is empty; pass some text");
  }
  // The special tokens in the text are matched as added tokens, before any splitting.
  return tokenizer.encode(chatText(format, system, turns), /*addBos=*/false);
}

}  // namespace kvs
