#pragma once
// What a Hugging Face tokenizer.json (and the tokenizer_config.json beside it) says about a
// byte-level BPE tokenizer, read and checked: the parts this reading implements are taken, any
// other is refused with a KvsError naming the file, the part and the fix.

#include <string>
#include <unordered_map>
#include <vector>

namespace kvs {

struct BpeAddedToken {
  std::string content;
  int id = -1;
  bool special = false;  // control token: invisible in decoded text
};

struct BpeMerge {
  int left = -1, right = -1, merged = -1;  // ids
};

struct BpeSpec {
  std::string path;                            // the tokenizer.json
  std::vector<std::string> pieces;             // by id: vocabulary strings, added tokens
  std::unordered_map<std::string, int> vocab;  // the BPE model's vocabulary
  std::vector<BpeMerge> merges;                // by rank
  std::vector<BpeAddedToken> added;            // matched in the text before splitting
  std::vector<std::string> splitPatterns;      // regexes, applied one after another
  bool nfc = false;                            // normalizer NFC (Qwen)
  bool ignoreMerges = false;                   // a word in the vocabulary is one token
  int bosId = -1;
  int eosId = -1;
};

// GPT-2's byte-to-unicode table: byte b is written in the vocabulary as the UTF-8 of the code
// point byteLevelCodePoint(b) (printable Latin-1 as itself, the rest moved to U+0100 and up).
char32_t byteLevelCodePoint(unsigned char b);
// The byte whose code point is cp, or -1.
int byteOfByteLevelCodePoint(char32_t cp);

// Throws KvsError for a file that is missing, not JSON, of the wrong shape, or uses a model type,
// normalizer, pre-tokenizer or decoder this reading does not implement.
BpeSpec readBpeSpec(const std::string& tokenizerJsonPath);

}  // namespace kvs
