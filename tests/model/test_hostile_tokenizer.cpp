// Damaged SentencePiece models, the fuzzing cases of the tokenizer loader: each is made here from
// the real tok512.model by rewriting one field, and is refused with one KvsError that names the
// file and what is wrong, before SentencePiece could crash on it or tokenize wrongly.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sentencepiece_mutants.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::test {
namespace {

using namespace spm;

class HostileTokenizer : public ::testing::Test {
 protected:
  TempDir dir;
  std::string path() const { return dir.file("t.model"); }

  // Loads the bytes and tokenizes as `kvstudio-cli tokenize` does: the error, or "" when none.
  std::string errorOf(const std::string& bytes, const std::string& text = "hi A there") {
    writeFile(path(), bytes);
    try {
      const Tokenizer t = Tokenizer::load(path());
      for (int id : t.encode(text)) t.piece(id);
      return "";
    } catch (const KvsError& e) {
      return e.what();
    }
  }
  void expectRefused(const std::string& bytes, const std::string& needle) {
    const std::string error = errorOf(bytes);
    EXPECT_NE(error.find(needle), std::string::npos) << "error: " << error;
    EXPECT_NE(error.find(path()), std::string::npos) << "the file is named: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
};

TEST_F(HostileTokenizer, TheRealModelsAndUnchangedRewritesStillLoad) {
  EXPECT_EQ(errorOf(readFile(modelPath("tok512.model"))), "");
  EXPECT_EQ(errorOf(readFile(modelPath("tokenizer.model"))), "");
  EXPECT_EQ(errorOf(withPieceType(1, kControl)), "");  // BOS rewritten as what it is
}

TEST_F(HostileTokenizer, AValidCharsmapIsAppliedAsSentencePieceDoes) {
  writeFile(path(), withCharsmap(charsmapOfOneRule()));
  const Tokenizer t = Tokenizer::load(path());
  EXPECT_EQ(t.encode("A"), t.encode("a"));  // the rule "A" -> "a"
  EXPECT_NE(t.encode("B"), t.encode("b"));
  writeFile(path(), withCharsmap(charsmapOfNestedRules(32)));  // 32 matches at once: the limit
  const Tokenizer nested = Tokenizer::load(path());
  EXPECT_EQ(nested.encode(std::string(40, 'a')), nested.encode(std::string(33, 'a')));  // "aa"
}

TEST_F(HostileTokenizer, CharsmapWithAGarbageHeaderIsRefused) {
  // The first 4 bytes give the trie's size: too small (the text read as trie and the trie's
  // walk past the blob), not whole units, zero, or beyond the blob.
  for (uint32_t header : {4u, 8u, 1023u, 0u, 0xDEADBEEFu}) {
    std::string charsmap = charsmapOfOneRule();
    charsmap.replace(0, 4, littleEndian32(header));
    expectRefused(withCharsmap(charsmap), "the normalizer's precompiled_charsmap");
  }
  expectRefused(withCharsmap("\x01\x02"), "too short for its 4-byte header");
}

TEST_F(HostileTokenizer, CharsmapWithAGarbageTrieIsRefused) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {  // segfaulted in SentencePiece's normalizer
    expectRefused(withCharsmap(charsmapOfRandomTrie(seed)), "precompiled_charsmap");
    expectRefused(withCharsmap(charsmapOfRandomTrie(seed), /*denormalizer=*/true),
                  "the denormalizer's precompiled_charsmap");
  }
}

TEST_F(HostileTokenizer, CharsmapRulesThatLeaveTheirBoundsAreRefused) {
  const std::string good = charsmapOfOneRule();
  std::string beyondText = good;  // the leaf of "A" points past the 2 bytes of text
  beyondText.replace(4 + 4 * 200, 4, littleEndian32((1u << 31) | 99));
  expectRefused(withCharsmap(beyondText), "points to byte 99 of 2 bytes of replacement text");
  std::string loop = good;  // 'A' leads back to the root's base
  loop.replace(4 + 4 * 64, 4, littleEndian32((65u << 10) | 0x41));
  expectRefused(withCharsmap(loop), "loops back");
  std::string outside = good;  // 'A' leads to a block past the trie's 256 units
  outside.replace(4 + 4 * 64, 4, littleEndian32((4096u << 10) | 0x41));
  expectRefused(withCharsmap(outside), "outside the 256 units");
  // 33 rules matching one input at once overflow SentencePiece's 32 results.
  expectRefused(withCharsmap(charsmapOfNestedRules(33)), "more than 32 of its rules");
}

TEST_F(HostileTokenizer, BosPieceOfTypeNormalIsRefused) {
  // bos_id() became -1 and every prompt began with it: a segfault in tokenize.
  expectRefused(withPieceType(1, kNormal), "BOS piece 1 ('<s>') has type NORMAL, not CONTROL");
}

TEST_F(HostileTokenizer, SpecialPiecesOfTheTrainerSpecMustExistWithTheirTypes) {
  const auto varintOf = [](int64_t v) { return static_cast<uint64_t>(v); };  // int32 on the wire
  expectRefused(withTrainerField(varintField(kBosId, varintOf(-1))), "it has no BOS piece");
  expectRefused(withTrainerField(varintField(kBosId, 100000)), "BOS id 100000 is not a piece id");
  expectRefused(withPieceType(0, kNormal), "unk piece 0 ('<unk>') has type NORMAL, not UNKNOWN");
  expectRefused(withPieceType(2, kNormal), "EOS piece 2 ('</s>') has type NORMAL, not CONTROL");
  expectRefused(withTrainerField(varintField(43, 7)), "pad piece 7");  // pad_id on a byte piece
  expectRefused(withTrainerField(bytesField(46, "<bos>")),  // bos_piece: the name looked up
                "BOS piece 1 is '<s>' but trainer_spec names it '<bos>'");
}

TEST_F(HostileTokenizer, PieceNamesWithControlBytesStayOnOneLine) {
  const std::string model =
      rewrite(goodModel(), [](const protobuf::Field& f, int index) -> std::optional<std::string> {
        if (f.number != kPieces || index != 1) return std::nullopt;
        return bytesField(kPieces, bytesField(kPieceText, "<s>\n") + varintField(kPieceType, 3));
      });
  expectRefused(model, "BOS piece 1 is '<s>\\x0A' but trainer_spec names it '<s>'");
}

TEST_F(HostileTokenizer, PiecesWithANulByteAreRefused) {
  const std::string model =
      rewrite(goodModel(), [](const protobuf::Field& f, int index) -> std::optional<std::string> {
        if (f.number != kPieces || index != 300) return std::nullopt;
        return bytesField(kPieces, bytesField(kPieceText, std::string("ab\0c", 4)));
      });
  expectRefused(model, "piece 300 holds a NUL byte");
}

TEST_F(HostileTokenizer, TruncatedAndForeignFilesAreNotModels) {
  const std::string good = goodModel();
  expectRefused(good.substr(0, good.size() / 2), "not a SentencePiece tokenizer model");
  expectRefused(std::string(100, '\xFF'), "not a SentencePiece tokenizer model");
  expectRefused("", "not a SentencePiece tokenizer model");
}

TEST_F(HostileTokenizer, IdsOutsideTheVocabularyAreCaught) {
  const Tokenizer t = Tokenizer::load(modelPath("tok512.model"));
  EXPECT_THROW(t.piece(-1), KvsError);
  EXPECT_THROW(t.piece(512), KvsError);
  EXPECT_FALSE(t.isControl(-1));
  EXPECT_FALSE(t.isByte(100000));
  EXPECT_FALSE(t.isUnknown(512));
}

}  // namespace
}  // namespace kvs::test
