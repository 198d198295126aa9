// The byte-level BPE tokenizer on a small tokenizer.json written here: merges by rank,
// ignore_merges, added tokens (the longest first), NFC, decoding and streaming.

#include <gtest/gtest.h>

#include "session/request.h"
#include "test_util.h"
#include "tiny_bpe.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace kvs::test {
namespace {
using nlohmann::json;

Tokenizer loadTiny(const json& j, const TempDir& dir) {
  return Tokenizer::load(writeTinyBpe(dir, j.dump()));
}

std::vector<int> bytesOf(const std::string& s) {
  std::vector<int> ids;
  for (unsigned char c : s) ids.push_back(c);  // byte b is id b in the tiny vocabulary
  return ids;
}

TEST(BpeUnit, MergesApplyByRank) {
  TempDir dir;
  const Tokenizer t = loadTiny(tinyBpeJson(), dir);
  EXPECT_EQ(t.kind(), TokenizerKind::kByteLevelBpe);
  // "hello" merges h+e, l+l, he+ll, hell+o; " world" starts with Ġw.
  EXPECT_EQ(t.encode("hello world", false), (std::vector<int>{259, 260, 'o', 'r', 'l', 'd'}));
  // "hel": h e (rank 0) comes before e l (rank 5)...
  EXPECT_EQ(t.encode("hel", false), (std::vector<int>{256, 'l'}));
  // ...and after it when the two ranks are swapped.
  json swapped = tinyBpeJson();
  std::swap(swapped["model"]["merges"][0], swapped["model"]["merges"][5]);
  TempDir dir2;
  EXPECT_EQ(loadTiny(swapped, dir2).encode("hel", false), (std::vector<int>{'h', 261}));
}

TEST(BpeUnit, MergesMayBePairs) {
  json j = tinyBpeJson();
  json pairs = json::array();
  for (const json& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  j["model"]["merges"] = pairs;
  TempDir dir;
  EXPECT_EQ(loadTiny(j, dir).encode("hello world", false),
            (std::vector<int>{259, 260, 'o', 'r', 'l', 'd'}));
}

TEST(BpeUnit, IgnoreMergesTakesAWordThatIsAToken) {
  TempDir dir, dir2;
  EXPECT_EQ(loadTiny(tinyBpeJson(), dir).encode("hlo", false), bytesOf("hlo"));
  json j = tinyBpeJson();
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(loadTiny(j, dir2).encode("hlo", false), (std::vector<int>{262}));
}

TEST(BpeUnit, AddedTokensAreMatchedFirstLongestFirst) {
  TempDir dir;
  const Tokenizer t = loadTiny(tinyBpeJson(), dir);
  EXPECT_EQ(t.encode("<a>bc", false), (std::vector<int>{265, 'c'}));
  EXPECT_EQ(t.encode("x<a>c", false), (std::vector<int>{'x', 264, 'c'}));
  EXPECT_EQ(t.encode("hi<|bos|>hello", false), (std::vector<int>{'h', 'i', 263, 259}));
  EXPECT_EQ(t.encode("hello", true), (std::vector<int>{263, 259}));
  EXPECT_EQ(t.bosId(), 263);
  EXPECT_EQ(t.eosId(), 263);  // written as an AddedToken object
  // Special tokens are invisible in decoded text; other added tokens are shown.
  EXPECT_EQ(t.decode({263, 259, 264}), "hello<a>");
  EXPECT_EQ(decodeStream(t, {263, 259, 264}, true), "hello<a>");
}

TEST(BpeUnit, NfcNormalizerComposes) {
  json j = tinyBpeJson();
  TempDir dir, dir2;
  EXPECT_EQ(loadTiny(j, dir).encode("e\xCC\x81", false), bytesOf("e\xCC\x81"));
  j["normalizer"] = {{"type", "NFC"}};
  EXPECT_EQ(loadTiny(j, dir2).encode("e\xCC\x81", false), bytesOf("\xC3\xA9"));  // é
}

TEST(BpeUnit, DecodeReplacesEachMaximalIllFormedSubpart) {
  TempDir dir;
  const Tokenizer t = loadTiny(tinyBpeJson(), dir);
  const std::string fffd = "\xEF\xBF\xBD";
  // E2 82 is the start of €: cut short, it is one U+FFFD, then "a".
  EXPECT_EQ(t.decode({0xE2, 0x82, 'a'}), fffd + "a");
  EXPECT_EQ(t.decode({0xE2, 0x82, 0xAC}), "\xE2\x82\xAC");
  EXPECT_EQ(t.decode({0xC0, 0x80}), fffd + fffd);  // never a lead byte, then a lone continuation
  EXPECT_EQ(t.decode({0xED, 0xA0, 0x80}), fffd + fffd + fffd);  // a surrogate
  // A special token between the bytes does not split the character (it is dropped first).
  EXPECT_EQ(t.decode({0xE2, 263, 0x82, 0xAC}), "\xE2\x82\xAC");
  for (const std::vector<int>& ids : std::vector<std::vector<int>>{
           {0xE2, 0x82, 'a'}, {0xE2, 263, 0x82, 0xAC}, {0xF0, 0x9F}, {0xC0, 0x80}, {0xF4, 0x90}}) {
    EXPECT_EQ(decodeStream(t, ids, true), t.decode(ids));
  }
  TokenStreamDecoder d(t, true);
  EXPECT_EQ(d.push(0xE2), "");
  EXPECT_EQ(d.push(0x82), "");
  EXPECT_EQ(d.push(0xAC), "\xE2\x82\xAC");
}

TEST(BpeUnit, TextThatIsNotUtf8IsRefused) {
  TempDir dir;
  const Tokenizer t = loadTiny(tinyBpeJson(), dir);
  EXPECT_NE(errorOf([&] { t.encode("ok\xFFno", false); }).find("not UTF-8 (byte 2)"),
            std::string::npos);
}

TEST(BpeUnit, WithoutTokenizerConfigThereIsNoBos) {
  TempDir dir;
  const Tokenizer t = Tokenizer::load(writeTinyBpe(dir, tinyBpeJson().dump(), nullptr));
  EXPECT_EQ(t.bosId(), -1);
  EXPECT_EQ(t.encode("hello", true), (std::vector<int>{259}));
  // Nothing to generate from without a prompt (promptIdsOf returned {-1}).
  PromptSpec spec;
  spec.bosOnly = true;
  spec.promptFix = "type a prompt";
  const std::string message = errorOf([&] { promptIdsOf(t, spec); });
  EXPECT_NE(message.find("has no BOS token to generate from; type a prompt"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace kvs::test
