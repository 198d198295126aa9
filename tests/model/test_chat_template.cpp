// The Llama-2-chat format against token ids from Debian's spm_encode (sentencepiece 0.1.97) for
// the real Llama 2 tokenizer (data/models/tokenizer.model, 32000 pieces).
//
// spm_encode encodes line by line and puts the dummy-prefix "▁" at the start of each line, but in
// the full text a line after "\n" has no prefix and "\n" is the byte token <0x0A> = 13. So each
// line after the first was encoded with a leading tab (a byte token that merges with nothing) and
// the two ids "▁" 29871, <0x09> 12 were dropped; lines are joined with 13:
//   printf '[INST] <<SYS>>\n\tYou are a helpful assistant.\n\t<</SYS>>\n\n'\
//          '\tWhat is the capital of France? [/INST] Paris. \n[INST] And of Italy? [/INST]\n' |
//     spm_encode --model=data/models/tokenizer.model --output_format=id
//   518 25580 29962 3532 14816 29903 6778
//   29871 12 3492 526 263 8444 20255 29889
//   29871 12 29966 829 14816 29903 6778
//   (empty line)
//   29871 12 5618 338 278 7483 310 3444 29973 518 29914 25580 29962 3681 29889 29871
//   518 25580 29962 1126 310 12730 29973 518 29914 25580 29962
//   printf '[INST] Hello [/INST]\n' | spm_encode ... --output_format=id
//   518 25580 29962 15043 518 29914 25580 29962
// BOS = 1 and EOS = 2 are added by the template, not by spm_encode.

#include <gtest/gtest.h>

#include "test_util.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace kvs::test {
namespace {

class Llama2Chat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokenizer_ = new Tokenizer(Tokenizer::load(modelPath("tokenizer.model")));
  }
  static void TearDownTestSuite() { delete tokenizer_; }
  static const Tokenizer& tok() { return *tokenizer_; }

 private:
  static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(Llama2Chat, OneTurnWithoutSystemPrompt) {
  EXPECT_EQ(llama2ChatText("", {{"Hello", ""}}, 0), "[INST] Hello [/INST]");
  EXPECT_EQ(encodeLlama2Chat(tok(), "", {{"  Hello\n", ""}}),
            (std::vector<int>{1, 518, 25580, 29962, 15043, 518, 29914, 25580, 29962}));
}

TEST_F(Llama2Chat, SystemPromptGoesInsideTheFirstInstruction) {
  EXPECT_EQ(
      llama2ChatText("You are a helpful assistant.", {{"What is the capital of France?", ""}}, 0),
      "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nWhat is the capital of "
      "France? [/INST]");
  const std::vector<int> expected = {1,     518,   25580, 29962, 3532,  14816, 29903, 6778,  13,
                                     3492,  526,   263,   8444,  20255, 29889, 13,    29966, 829,
                                     14816, 29903, 6778,  13,    13,    5618,  338,   278,   7483,
                                     310,   3444,  29973, 518,   29914, 25580, 29962};
  EXPECT_EQ(encodeLlama2Chat(tok(), "You are a helpful assistant.",
                             {{"What is the capital of France?", ""}}),
            expected);
}

TEST_F(Llama2Chat, MultiTurnHasBosAndEosPerExchange) {
  const std::vector<ChatTurn> turns = {{"What is the capital of France?", "Paris."},
                                       {"And of Italy?", ""}};
  EXPECT_EQ(llama2ChatText("sys", turns, 1), "[INST] And of Italy? [/INST]");
  const std::vector<int> expected = {
      1,     518,   25580, 29962, 3532, 14816, 29903, 6778,  13,    3492,  526,   263, 8444,
      20255, 29889, 13,    29966, 829,  14816, 29903, 6778,  13,    13,    5618,  338, 278,
      7483,  310,   3444,  29973, 518,  29914, 25580, 29962, 3681,  29889, 29871, 2,   1,
      518,   25580, 29962, 1126,  310,  12730, 29973, 518,   29914, 25580, 29962};
  EXPECT_EQ(encodeLlama2Chat(tok(), "You are a helpful assistant.", turns), expected);
}

TEST_F(Llama2Chat, BadConversationsAreRefused) {
  EXPECT_THROW(encodeLlama2Chat(tok(), "", {}), KvsError);
  EXPECT_THROW(encodeLlama2Chat(tok(), "", {{"  ", ""}}), KvsError);
  EXPECT_THROW(encodeLlama2Chat(tok(), "", {{"Hi", "Hello!"}}), KvsError);
}

}  // namespace
}  // namespace kvs::test
