#pragma once
// A small byte-level BPE tokenizer.json written by the tests: the 256 byte tokens (ids 0-255),
// a few merges, added tokens, and Llama 3's split regex. Tests change its JSON to make variants.

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"
#include "tokenizer/bpe_spec.h"

namespace kvs::test {

inline std::string byteLevelChar(unsigned char b) {
  const char32_t cp = byteLevelCodePoint(b);
  return cp < 0x80 ? std::string(1, static_cast<char>(cp))
                   : std::string{static_cast<char>(0xC0 | (cp >> 6)),
                                 static_cast<char>(0x80 | (cp & 0x3F))};
}

inline const char* llama3Pattern() {
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

// Ids: bytes 0-255, then he 256, ll 257, hell 258, hello 259, Ġw 260, el 261, hlo 262 (reached
// by no merge), added <|bos|> 263 (special), <a> 264, <a>b 265.
inline nlohmann::json tinyBpeJson() {
  using nlohmann::json;
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byteLevelChar(static_cast<unsigned char>(b))] = b;
  const std::string space = byteLevelChar(' ');
  vocab["he"] = 256, vocab["ll"] = 257, vocab["hell"] = 258, vocab["hello"] = 259;
  vocab[space + "w"] = 260, vocab["el"] = 261, vocab["hlo"] = 262;
  json merges = {"h e", "l l", "he ll", "hell o", space + " w", "e l"};
  json split = {{"type", "Split"},
                {"pattern", {{"Regex", llama3Pattern()}}},
                {"behavior", "Isolated"},
                {"invert", false}};
  json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  const auto added = [](int id, const std::string& content, bool special) {
    return json{{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", special}};
  };
  return json{{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens",
               {added(263, "<|bos|>", true), added(264, "<a>", false), added(265, "<a>b", false)}},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {split, byteLevel}}}},
              {"post_processor", {{"type", "ByteLevel"}}},
              {"decoder", {{"type", "ByteLevel"}}},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", merges}}}};
}

inline nlohmann::json tinyBpeConfig() {
  return {{"bos_token", "<|bos|>"},
          {"eos_token", {{"__type", "AddedToken"}, {"content", "<|bos|>"}}}};
}

// Writes tokenizer.json (and tokenizer_config.json unless config is null) into dir; its path.
inline std::string writeTinyBpe(const TempDir& dir, const std::string& tokenizerJson,
                                const nlohmann::json& config = tinyBpeConfig()) {
  writeFile(dir.file("tokenizer.json"), tokenizerJson);
  if (!config.is_null()) writeFile(dir.file("tokenizer_config.json"), config.dump());
  return dir.file("tokenizer.json");
}

}  // namespace kvs::test
