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

}  // namespace kvs
