#pragma once
// Finds the tokenizer for a model when the user names none: a SentencePiece .model file next to
// the checkpoint (or inside a Hugging Face folder, tokenizer.model first) whose vocabulary size
// matches the model's.

#include <string>

#include "tokenizer/tokenizer.h"

namespace kvs {

// explicitPath: the user's choice, or empty. Throws KvsError when none fits, naming what was
// tried, and when the tokenizer's vocabulary differs from the model's.
Tokenizer locateTokenizer(const std::string& modelPath, const std::string& explicitPath,
                          int modelVocabSize);

}  // namespace kvs
