// Tokenization equals llama2.c's reference ids and Debian's spm_encode on varied text.

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::test {
namespace {

// Parses "ids (bos=1, eos=0): [1, 403, ...]" lines of a llama2.c tokenization reference.
std::vector<std::pair<std::string, std::vector<int>>> readReference(const std::string& file) {
  std::istringstream in(readFile(goldenPath(file)));
  std::vector<std::pair<std::string, std::vector<int>>> cases;
  std::string prompt;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("prompt: \"", 0) == 0) prompt = line.substr(9, line.size() - 10);
    if (line.rfind("ids ", 0) == 0) {
      std::string list = line.substr(line.find('[') + 1);
      for (char& ch : list) ch = (ch == ',' || ch == ']') ? ' ' : ch;
      std::istringstream ids(list);
      cases.push_back({prompt, {}});
      for (int id; ids >> id;) cases.back().second.push_back(id);
    }
  }
  return cases;
}

TEST(Tokenizer, Tok512MatchesLlama2cReference) {
  const Tokenizer t = Tokenizer::load(modelPath("tok512.model"));
  EXPECT_EQ(t.vocabSize(), 512);
  EXPECT_EQ(t.bosId(), 1);
  EXPECT_EQ(t.eosId(), 2);
  const auto cases = readReference("tokenization_tok512.txt");
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& [prompt, ids] : cases) EXPECT_EQ(t.encode(prompt), ids) << prompt;
  EXPECT_EQ(t.encode("Once upon a time"), (std::vector<int>{1, 403, 407, 261, 378}));
}

TEST(Tokenizer, Llama2TokenizerMatchesLlama2cReference) {
  const Tokenizer t = Tokenizer::load(modelPath("tokenizer.model"));
  EXPECT_EQ(t.vocabSize(), 32000);
  const auto cases = readReference("tokenization_llama2_tokenizer32000.txt");
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& [prompt, ids] : cases) EXPECT_EQ(t.encode(prompt), ids) << prompt;
  EXPECT_EQ(t.piece(365), "\xE2\x96\x81L");
}

// One line of text per input line: spm_encode works line by line, so no newlines here.
const std::vector<std::string> kVariedText = {
    "Once upon a time",
    "Lily and Tom went to the park",
    "numbers 0 1 12 123 3.14159 2,000,000 and 1e-5",
    "  leading spaces, trailing spaces   ",
    "runs   of    spaces\tand\ttabs",
    "Ünïcödé café naïve façade Straße",
    "日本語のテキスト 中文 한국어",
    "emoji: 🦙 🚀 👩‍💻 ✨ (byte fallback in small vocabularies)",
    "punctuation!?…—«quotes» 'single' \"double\" [brackets] {braces} <angle>",
    "mixedCASE camelCase snake_case kebab-case URL https://example.org/a?b=c",
    "x",
    "Ω≈ç√∫˜µ≤≥÷ ∞ ± ∑ ∏ ∂",
};

std::vector<std::vector<int>> spmEncode(const std::string& model,
                                        const std::vector<std::string>& lines) {
  TempDir dir;
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  writeFile(dir.file("in.txt"), input);
  const std::string cmd = "spm_encode --model=" + model + " --output_format=id < " +
                          dir.file("in.txt") + " > " + dir.file("out.txt");
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::istringstream out(readFile(dir.file("out.txt")));
  std::vector<std::vector<int>> result;
  for (std::string line; std::getline(out, line);) {
    std::istringstream ls(line);
    result.emplace_back();
    for (int id; ls >> id;) result.back().push_back(id);
  }
  return result;
}

// Random lines over a pool of ASCII, digits, whitespace runs, accented letters, CJK and emoji.
std::vector<std::string> randomLines(int count, uint32_t seed) {
  const std::vector<std::string> pool = {
      "a", "e", "Z", "q",  "0",  "7",  "42",   " ", "  ",  "\t",           ".",   ",",    "!",  "'",
      "é", "ß", "Ω", "日", "語", "한", "🦙", "🚀", "‍", "\xE2\x80\x8B", "the", " cat", "Ünï"};
  std::mt19937 rng(seed);
  std::vector<std::string> lines;
  for (int i = 0; i < count; ++i) {
    std::string line;
    const int pieces = 1 + static_cast<int>(rng() % 20);
    for (int p = 0; p < pieces; ++p) line += pool[rng() % pool.size()];
    lines.push_back(line);
  }
  return lines;
}

class SpmEncodeCrossCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(SpmEncodeCrossCheck, EncodeEqualsSpmEncode) {
  if (std::system("command -v spm_encode > /dev/null") != 0) {
    GTEST_SKIP()
        << "spm_encode not installed (Debian package sentencepiece; .ci/setup.sh installs it)";
  }
  const std::string model = modelPath(GetParam());
  const Tokenizer t = Tokenizer::load(model);
  std::vector<std::string> lines = kVariedText;
  for (const auto& line : randomLines(300, 5)) lines.push_back(line);
  const auto expected = spmEncode(model, lines);
  ASSERT_EQ(expected.size(), lines.size());
  bool sawByteFallback = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<int> ids = t.encode(lines[i], /*addBos=*/false);
    EXPECT_EQ(ids, expected[i]) << "line " << i << ": " << lines[i];
    for (int id : ids) sawByteFallback |= t.isByte(id);
    EXPECT_EQ(t.encode(lines[i], true).front(), 1);
  }
  EXPECT_TRUE(sawByteFallback) << "the emoji line should need byte-fallback pieces";
}

INSTANTIATE_TEST_SUITE_P(BothTokenizers, SpmEncodeCrossCheck,
                         ::testing::Values("tok512.model", "tokenizer.model"),
                         [](const auto& info) {
                           return info.param == "tok512.model" ? std::string("tok512")
                                                               : std::string("llama2");
                         });

TEST(Tokenizer, DecodeRoundTripsNormalText) {
  const Tokenizer t = Tokenizer::load(modelPath("tokenizer.model"));
  for (const std::string text : {"Once upon a time", "café 🦙 3.14", "日本語"}) {
    EXPECT_EQ(t.decode(t.encode(text)), text);
  }
}

TEST(Tokenizer, MissingAndForeignFilesAreNamed) {
  try {
    Tokenizer::load("/nonexistent/tok.model");
    FAIL();
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer file not found"), std::string::npos);
  }
  try {
    Tokenizer::load(modelPath("stories260K.bin"));
    FAIL();
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("not a SentencePiece tokenizer model"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kvs::test
