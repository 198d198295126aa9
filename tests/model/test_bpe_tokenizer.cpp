// kvs::Tokenizer with a tokenizer.json: BOS and EOS from tokenizer_config.json, the model folder
// choosing the kind, Qwen's padded vocabulary, and how the pieces read.

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "bpe_test_support.h"
#include "model/hf_export.h"
#include "model/llama_weights.h"
#include "model/model_config.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"

namespace kvs::test {
namespace {
namespace fs = std::filesystem;

// A model folder holding copies of a package's tokenizer files (and, when given, a .model).
void copyTokenizerFiles(const std::string& name, const std::string& folder) {
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(bpePackageDir(name) + "/models/" + file, folder + "/" + file);
  }
}

TEST(BpeTokenizer, BosAndEosComeFromTokenizerConfig) {
  KVS_REQUIRE_BPE_PACKAGE("llama3_1");
  KVS_REQUIRE_BPE_PACKAGE("qwen3");
  const Tokenizer llama3 = Tokenizer::load(bpeJsonPath("llama3"));
  EXPECT_EQ(llama3.bosId(), 128000);  // <|begin_of_text|>
  EXPECT_EQ(llama3.eosId(), 128001);  // <|end_of_text|>
  EXPECT_EQ(llama3.vocabSize(), 128256);
  const Tokenizer llama31 = Tokenizer::load(bpeJsonPath("llama3_1"));
  EXPECT_EQ(llama31.eosId(), 128009);  // <|eot_id|>
  const std::vector<int> withBos = llama31.encode("Hello world", true);
  EXPECT_EQ(withBos, (std::vector<int>{128000, 9906, 1917}));
  EXPECT_EQ(llama31.kindName(), "byte-level BPE");

  const Tokenizer qwen = Tokenizer::load(bpeJsonPath("qwen3"));
  EXPECT_EQ(qwen.bosId(), -1);  // Qwen has no BOS: addBos adds nothing
  EXPECT_EQ(qwen.eosId(), qwen.pieceId("<|im_end|>"));
  EXPECT_EQ(qwen.encode("Hello world", true), qwen.encode("Hello world", false));
  EXPECT_EQ(qwen.vocabSize(), 151669);
}

TEST(BpeTokenizer, PiecesAreTheVocabularyStrings) {
  KVS_REQUIRE_BPE_PACKAGE("llama3");
  const Tokenizer t = Tokenizer::load(bpeJsonPath("llama3"));
  const std::vector<int> ids = t.encode("Hi there\n", false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(t.piece(ids[1]), "\xC4\xA0there");  // Ġthere: the space is byte-level Ġ
  EXPECT_EQ(t.tokenBytes(ids[1]), " there");
  EXPECT_EQ(t.piece(ids[2]), "\xC4\x8A");  // Ċ, the newline
  EXPECT_EQ(t.piece(128000), "<|begin_of_text|>");
  EXPECT_TRUE(t.isControl(128000));
  EXPECT_FALSE(t.isControl(ids[1]));
  EXPECT_FALSE(t.isByte(ids[2]));
  EXPECT_EQ(t.pieceId("<|eot_id|>"), 128009);
  EXPECT_EQ(t.pieceId("no such piece"), -1);
  EXPECT_NE(errorOf([&] { t.piece(128256); }).find("not in the tokenizer's 128256"),
            std::string::npos);
}

TEST(BpeTokenizer, StreamingHoldsBackAnIncompleteCharacter) {
  KVS_REQUIRE_BPE_PACKAGE("llama3");
  const Tokenizer t = Tokenizer::load(bpeJsonPath("llama3"));
  // 🦙 is one character of four bytes; Llama 3 has no token for it, so it is several byte tokens.
  const std::vector<int> ids = t.encode("🦙", false);
  ASSERT_GE(ids.size(), 2u);
  TokenStreamDecoder d(t, false);
  std::string text;
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_EQ(d.push(ids[i]), "") << "token " << i << " shows part of a character";
  }
  EXPECT_EQ(d.push(ids.back()), "🦙");
  EXPECT_EQ(d.finish(), "");
  // Cut short, the bytes become one U+FFFD, as Hugging Face's decode gives.
  std::vector<int> cut(ids.begin(), ids.end() - 1);
  EXPECT_EQ(decodeStream(t, cut, true), "\xEF\xBF\xBD");
  EXPECT_EQ(t.decode(cut), "\xEF\xBF\xBD");
}

// The exporter's folder of a BPE family carries tokenizer.json and its tokenizer_config.json
// (BOS and EOS live there), so the folder loads with its tokenizer as a downloaded one does.
TEST(BpeTokenizer, TheExporterCopiesTokenizerJsonAndItsConfig) {
  KVS_REQUIRE_BPE_PACKAGE("llama3");
  ModelConfig c;
  c.dim = 8;
  c.hiddenDim = 16;
  c.nLayers = 1;
  c.nHeads = 2;
  c.nKvHeads = 2;
  c.vocabSize = 128256;
  c.seqLen = 16;
  c.ropeStyle = RopeStyle::kHalfSplit;
  c.family = ModelFamily::kLlama;
  HfExportOptions options;
  options.tokenizerPath = bpeJsonPath("llama3");
  TempDir dir;
  const std::string folder = dir.file("tiny-llama3");
  writeHfCheckpoint(folder, c, randomWeights(c, 1), options);
  EXPECT_TRUE(fs::exists(folder + "/tokenizer.json"));
  EXPECT_TRUE(fs::exists(folder + "/tokenizer_config.json"));
  EXPECT_FALSE(fs::exists(folder + "/tokenizer.model"));
  const Tokenizer t = locateTokenizer(folder, "", c.vocabSize);
  EXPECT_EQ(t.kind(), TokenizerKind::kByteLevelBpe);
  EXPECT_EQ(t.bosId(), 128000);  // <|begin_of_text|>, from the copied config
}

TEST(BpeTokenizer, TheModelFolderDecidesTheKind) {
  KVS_REQUIRE_BPE_PACKAGE("llama3");
  TempDir dir;
  copyTokenizerFiles("llama3", dir.path());
  EXPECT_EQ(describeTokenizerIn(dir.path(), 128256), "byte-level BPE, tokenizer.json");
  EXPECT_EQ(locateTokenizer(dir.path(), "", 128256).kind(), TokenizerKind::kByteLevelBpe);
  // Mistral's folders hold both: SentencePiece's own model is taken when its size fits...
  fs::copy_file(modelPath("tok512.model"), dir.file("tokenizer.model"));
  EXPECT_EQ(describeTokenizerIn(dir.path(), 512), "SentencePiece, tokenizer.model");
  EXPECT_EQ(describeTokenizerIn(dir.path(), 7), "none found next to the model");
  EXPECT_EQ(locateTokenizer(dir.path(), "", 512).kind(), TokenizerKind::kSentencePiece);
  // ...and tokenizer.json when only it fits.
  EXPECT_EQ(locateTokenizer(dir.path(), "", 128256).kind(), TokenizerKind::kByteLevelBpe);
  const std::string err = errorOf([&] { locateTokenizer(dir.path(), "", 100); });
  EXPECT_NE(err.find("tokenizer.json (128256 pieces)"), std::string::npos) << err;
  // A file beside a checkpoint file is found too.
  EXPECT_EQ(locateTokenizer(dir.file("model.safetensors"), "", 128256).path(),
            (fs::absolute(dir.path()) / "tokenizer.json").string());
}

TEST(BpeTokenizer, QwensPaddedVocabularyIsCovered) {
  KVS_REQUIRE_BPE_PACKAGE("qwen3");
  TempDir dir;
  copyTokenizerFiles("qwen3", dir.path());
  const Tokenizer t = locateTokenizer(dir.path(), "", 151936);  // Qwen3's config vocab_size
  EXPECT_EQ(t.vocabSize(), 151936);
  EXPECT_TRUE(t.isControl(151935));
  EXPECT_EQ(t.tokenBytes(151935), "");
  EXPECT_EQ(t.piece(151935), "<unused 151935>");
  const std::vector<int> hi = t.encode("Hi", false);
  EXPECT_EQ(t.decode({hi[0], 151700}), "Hi");
  EXPECT_EQ(decodeStream(t, {hi[0], 151700}, true), "Hi");
  // A tokenizer with more ids than the model is still refused.
  EXPECT_NE(errorOf([&] { locateTokenizer(dir.path(), "", 151000); }).find("151669 pieces"),
            std::string::npos);
  // An explicit tokenizer.json is covered the same way.
  EXPECT_EQ(locateTokenizer("unused", dir.file("tokenizer.json"), 151936).vocabSize(), 151936);
}

TEST(BpeTokenizer, LoadsAndEncodesQuickly) {
  KVS_REQUIRE_BPE_PACKAGE("llama3");
  const auto t0 = std::chrono::steady_clock::now();
  const Tokenizer t = Tokenizer::load(bpeJsonPath("llama3"));
  const auto t1 = std::chrono::steady_clock::now();
  std::string text;
  for (const std::string& s : bpeTestStrings()) text += s + "\n";
  while (text.size() < (1u << 20)) text += text;
  const std::vector<int> ids = t.encode(text, false);
  const auto t2 = std::chrono::steady_clock::now();
  const auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  std::cout << "[ timing ] load " << ms(t0, t1) << " ms; encode " << text.size() << " bytes to "
            << ids.size() << " tokens in " << ms(t1, t2) << " ms\n";
  EXPECT_GT(ids.size(), text.size() / 8);
}

}  // namespace
}  // namespace kvs::test
