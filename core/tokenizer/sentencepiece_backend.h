#pragma once
// The SentencePiece kind of tokenizer: a .model file, worked by the SentencePiece library.

#include <memory>
#include <string>

#include "tokenizer/tokenizer_backend.h"

namespace kvs {

// Throws KvsError when path is missing, is not a SentencePiece model, or is a damaged one
// (checkSentencePieceModel) that SentencePiece would crash on.
std::unique_ptr<TokenizerBackend> loadSentencePieceBackend(const std::string& path);

}  // namespace kvs
