// Hostile and unsupported tokenizer.json / tokenizer_config.json files: each is refused with a
// KvsError naming the file and what is wrong, never a crash or another exception.

#include <gtest/gtest.h>

#include <functional>

#include "test_util.h"
#include "tiny_bpe.h"
#include "tokenizer/tokenizer.h"

namespace kvs::test {
namespace {
using nlohmann::json;

// The message loading tokenizerJson (as text) gives, checked to name the file.
std::string refusalOf(const std::string& tokenizerJson, const json& config = tinyBpeConfig()) {
  TempDir dir;
  const std::string path = writeTinyBpe(dir, tokenizerJson, config);
  const std::string err = errorOf([&] { Tokenizer::load(path); });
  EXPECT_NE(err.find(dir.path()), std::string::npos) << "the message names no file: " << err;
  return err;
}

std::string refusalOf(const std::function<void(json&)>& edit) {
  json j = tinyBpeJson();
  edit(j);
  return refusalOf(j.dump());
}

#define EXPECT_REFUSED(message, phrase) \
  EXPECT_NE(std::string(message).find(phrase), std::string::npos) << (message)

TEST(HostileBpe, DamagedJsonIsRefused) {
  const std::string good = tinyBpeJson().dump();
  EXPECT_REFUSED(refusalOf(good.substr(0, good.size() / 2)), "not JSON");
  EXPECT_REFUSED(refusalOf(""), "not JSON");
  EXPECT_REFUSED(refusalOf("{\"model\": \"\xFF\xFE\"}"), "not JSON");  // not UTF-8
  EXPECT_REFUSED(refusalOf("[1, 2]"), "not a JSON object");
  EXPECT_REFUSED(refusalOf("{}"), "no \"model\" object");
  // Deep nesting is parsed and freed without recursion running out of stack.
  EXPECT_REFUSED(refusalOf(std::string(200000, '[') + std::string(200000, ']')),
                 "not a JSON object");
}

TEST(HostileBpe, WrongTypesAreRefused) {
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"] = "BPE"; }), "no \"model\" object");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["vocab"] = json::array({"a"}); }),
                 "no \"vocab\" object");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["vocab"]["he"] = "256"; }),
                 "not an integer id");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["vocab"]["he"] = -1; }), "out of range");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["vocab"]["he"] = int64_t{1} << 40; }),
                 "out of range");
  // An id past the tokens listed would size a table; it is refused first.
  EXPECT_REFUSED(refusalOf([](json& j) { j["added_tokens"][0]["id"] = (1 << 30); }),
                 "the file lists 266 tokens");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["merges"][1] = 5; }), "neither");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["merges"][1] = "h e l"; }), "not two pieces");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["ignore_merges"] = "yes"; }),
                 "not true or false");
  EXPECT_REFUSED(refusalOf([](json& j) { j["added_tokens"] = "none"; }), "not a list");
  EXPECT_REFUSED(refusalOf([](json& j) { j["added_tokens"][0].erase("content"); }),
                 "no content or id");
  EXPECT_REFUSED(refusalOf([](json& j) { j["added_tokens"][0]["special"] = 1; }),
                 "not true or false");
  EXPECT_REFUSED(refusalOf([](json& j) { j["pre_tokenizer"]["pretokenizers"] = 5; }),
                 "no \"pretokenizers\" list");
  EXPECT_REFUSED(refusalOf([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = 3; }),
                 "Regex");
}

TEST(HostileBpe, MissingOrInconsistentPartsAreRefused) {
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"].erase("merges"); }), "no \"merges\" list");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["merges"] = json::array(); }),
                 "no \"merges\" list");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["merges"].push_back("q zz"); }),
                 "\"zz\", which is not in the vocabulary");
  // The merged piece must be a token too.
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["merges"].push_back("x y"); }),
                 "\"xy\", which is not in the vocabulary");
  EXPECT_REFUSED(refusalOf([](json& j) { j["added_tokens"][1]["id"] = 5; }), "is given to both");
  // An added token that repeats a vocabulary entry leaves room for a gap within the count.
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["added_tokens"].push_back({{"id", 256}, {"content", "he"}});
                   j["added_tokens"][2]["id"] = 266;
                 }),
                 "no token has id 265");
  // Byte 'a' has no token of its own (its id now names another string).
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["model"]["vocab"].erase("a");
                   j["model"]["vocab"]["zz"] = 'a';
                 }),
                 "no token for byte 97");
  EXPECT_REFUSED(refusalOf([](json& j) { j.erase("pre_tokenizer"); }), "no pre_tokenizer");
  EXPECT_REFUSED(refusalOf([](json& j) { j.erase("decoder"); }), "decoder (none)");
}

TEST(HostileBpe, WhatIsNotImplementedIsRefusedWithTheFix) {
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["type"] = "WordPiece"; }),
                 "model type \"WordPiece\" is not implemented");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["byte_fallback"] = true; }),
                 "give the model's SentencePiece tokenizer.model");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["dropout"] = 0.1; }), "dropout");
  EXPECT_REFUSED(refusalOf([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }),
                 "continuing_subword_prefix");
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["normalizer"] = {{"type", "Lowercase"}};
                 }),
                 "normalizer");
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["pre_tokenizer"] = {{"type", "Whitespace"}};
                 }),
                 "does not end with ByteLevel");
  EXPECT_REFUSED(
      refusalOf([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed"; }),
      "Isolated");
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"String", " "}};
                 }),
                 "Regex");
  EXPECT_REFUSED(
      refusalOf([](json& j) { j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true; }),
      "add_prefix_space");
  EXPECT_REFUSED(refusalOf([](json& j) { j["added_tokens"][0]["lstrip"] = true; }), "lstrip");
  EXPECT_REFUSED(refusalOf([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }), "decoder");
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["post_processor"] = {{"type", "BertProcessing"}};
                 }),
                 "post_processor");
  const std::string err = refusalOf([](json& j) { j["model"]["type"] = "Unigram"; });
  EXPECT_REFUSED(err, "tokenizer.model");  // the fix is named
}

TEST(HostileBpe, RegexesPcre2RejectsOrGivesUpOnAreRefused) {
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(?<";
                 }),
                 "PCRE2 cannot compile the pre_tokenizer's regex");
  EXPECT_REFUSED(refusalOf([](json& j) {
                   j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "[a-";
                 }),
                 "PCRE2 cannot compile");
  // Catastrophic backtracking ends at PCRE2's match limit with an error, not a hang.
  json j = tinyBpeJson();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(a+)+$";
  TempDir dir;
  const Tokenizer t = Tokenizer::load(writeTinyBpe(dir, j.dump()));
  EXPECT_REFUSED(errorOf([&] { t.encode(std::string(40, 'a') + "!", false); }),
                 "regex failed on the text");
  // A pattern that matches empty at every position ends a piece there, as Hugging Face's Split
  // does, and the search moves on: one character per piece, no merges across them.
  json empty = tinyBpeJson();
  empty["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "x*";
  TempDir dir2;
  EXPECT_EQ(Tokenizer::load(writeTinyBpe(dir2, empty.dump())).encode("hello", false),
            (std::vector<int>{'h', 'e', 'l', 'l', 'o'}));
}

TEST(HostileBpe, TokenizerConfigIsChecked) {
  const std::string good = tinyBpeJson().dump();
  EXPECT_REFUSED(refusalOf(good, json{{"bos_token", 5}}), "neither a token nor null");
  EXPECT_REFUSED(refusalOf(good, json{{"bos_token", "<nope>"}}), "is not a token");
  EXPECT_REFUSED(refusalOf(good, json::array()), "not a JSON object");
  TempDir dir;
  writeFile(dir.file("tokenizer_config.json"), "{\"bos_token\": ");
  writeFile(dir.file("tokenizer.json"), good);
  EXPECT_REFUSED(errorOf([&] { Tokenizer::load(dir.file("tokenizer.json")); }),
                 "tokenizer_config.json: not JSON");
}

TEST(HostileBpe, MissingFilesAreRefused) {
  TempDir dir;
  EXPECT_REFUSED(errorOf([&] { Tokenizer::load(dir.file("tokenizer.json")); }), "not found");
  std::filesystem::create_directory(dir.file("folder.json"));
  EXPECT_REFUSED(errorOf([&] { Tokenizer::load(dir.file("folder.json")); }), "folder.json");
}

// Random byte edits of a good file: each loads or is refused with a KvsError, and what loads
// encodes and decodes without crashing.
TEST(HostileBpe, MutatedFilesLoadOrAreRefused) {
  const std::string good = tinyBpeJson().dump();
  uint64_t state = 7;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  const std::string alphabet = "{}[]\":,0123456789-eatrux \\";
  int loaded = 0, refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string text = good;
    for (size_t k = 0, n = 1 + next() % 4; k < n; ++k) {
      text[next() % text.size()] = alphabet[next() % alphabet.size()];
    }
    TempDir dir;
    const std::string path = writeTinyBpe(dir, text);
    try {
      const Tokenizer t = Tokenizer::load(path);
      const std::vector<int> ids = t.encode("hello <a>b world 123", true);
      t.decode(ids);
      ++loaded;
    } catch (const KvsError&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": not a KvsError: " << e.what();
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(loaded + refused, 300);
}

}  // namespace
}  // namespace kvs::test
