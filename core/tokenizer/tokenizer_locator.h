#pragma once
// Finds the tokenizer for a model when the user names none: a SentencePiece .model file or a
// tokenizer.json next to the checkpoint (or inside a Hugging Face folder, tokenizer.model first,
// then other .model files, then tokenizer.json) whose vocabulary size matches the model's (a
// tokenizer.json's may be smaller: Qwen pads its embedding).

#include <string>

#include "tokenizer/tokenizer.h"

namespace kvs {

// explicitPath: the user's choice, or empty. Throws KvsError when none fits, naming what was
// tried, and when the tokenizer's vocabulary differs from the model's.
Tokenizer locateTokenizer(const std::string& modelPath, const std::string& explicitPath,
                          int modelVocabSize);

// The tokenizer locateTokenizer finds for the model, for `info`: e.g. "byte-level BPE,
// tokenizer.json", "SentencePiece, tok512.model", or "none found next to the model".
std::string describeTokenizerIn(const std::string& modelPath, int modelVocabSize);

}  // namespace kvs
