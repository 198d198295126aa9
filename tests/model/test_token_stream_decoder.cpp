// Streaming decode equals SentencePiece's Decode of the whole sequence, for any id sequence.

#include <gtest/gtest.h>

#include <random>

#include "test_util.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace kvs::test {
namespace {

std::vector<int> randomIds(const Tokenizer& t, std::mt19937& rng, int n) {
  // Half of the ids are byte pieces, so partial and invalid UTF-8 sequences are common.
  std::vector<int> bytes, others;
  for (int id = 0; id < t.vocabSize(); ++id) (t.isByte(id) ? bytes : others).push_back(id);
  std::vector<int> ids;
  for (int i = 0; i < n; ++i) {
    const auto& pool = rng() % 2 ? bytes : others;
    ids.push_back(pool[rng() % pool.size()]);
  }
  return ids;
}

class StreamDecoder : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamDecoder, RandomSequencesEqualSentencePieceDecode) {
  const Tokenizer t = Tokenizer::load(modelPath(GetParam()));
  std::mt19937 rng(17);
  for (int trial = 0; trial < 500; ++trial) {
    const std::vector<int> ids = randomIds(t, rng, 1 + trial % 24);
    EXPECT_EQ(decodeStream(t, ids, /*atTextStart=*/true), t.decode(ids)) << "trial " << trial;
  }
}

TEST_P(StreamDecoder, TextAfterBosEqualsDecode) {
  const Tokenizer t = Tokenizer::load(modelPath(GetParam()));
  const std::vector<int> ids = t.encode("Once upon a time, 🦙 ate café.");
  EXPECT_EQ(decodeStream(t, ids, true), t.decode(ids));
  EXPECT_EQ(decodeStream(t, ids, true), "Once upon a time, 🦙 ate café.");
}

INSTANTIATE_TEST_SUITE_P(BothTokenizers, StreamDecoder,
                         ::testing::Values("tok512.model", "tokenizer.model"),
                         [](const auto& info) {
                           return info.param == "tok512.model" ? std::string("tok512")
                                                               : std::string("llama2");
                         });

TEST(StreamDecoderBehaviour, HoldsBytesUntilACharacterIsComplete) {
  const Tokenizer t = Tokenizer::load(modelPath("tok512.model"));
  const std::vector<int> ids = t.encode("🦙", false);  // 4 byte pieces after "▁"
  TokenStreamDecoder d(t, false);
  std::vector<std::string> chunks;
  for (int id : ids) chunks.push_back(d.push(id));
  ASSERT_GE(chunks.size(), 4u);
  EXPECT_EQ(chunks[chunks.size() - 2], "");  // the llama is not complete yet
  EXPECT_EQ(chunks.back(), "🦙");
  EXPECT_EQ(d.finish(), "");
}

TEST(StreamDecoderBehaviour, ContinuationKeepsItsLeadingSpace) {
  const Tokenizer t = Tokenizer::load(modelPath("tok512.model"));
  const std::vector<int> ids = t.encode(" upon a time", false);
  EXPECT_EQ(decodeStream(t, ids, /*atTextStart=*/false), " upon a time");
  EXPECT_EQ(decodeStream(t, ids, /*atTextStart=*/true), "upon a time");
}

TEST(StreamDecoderBehaviour, IncompleteBytesAtTheEndBecomeReplacementCharacters) {
  const Tokenizer t = Tokenizer::load(modelPath("tok512.model"));
  std::vector<int> ids = t.encode("🦙", false);
  ids.pop_back();  // drop the last byte of the 4-byte character
  TokenStreamDecoder d(t, true);
  std::string text;
  for (int id : ids) text += d.push(id);
  text += d.finish();
  EXPECT_EQ(text, t.decode(ids));
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos);
}

}  // namespace
}  // namespace kvs::test
