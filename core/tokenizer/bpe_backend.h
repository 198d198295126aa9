#pragma once
// The byte-level BPE kind of tokenizer, read from a Hugging Face tokenizer.json (Llama 3.x,
// Qwen2/2.5/3): added tokens matched first, then NFC when the file asks for it, the split regexes,
// GPT-2's byte-to-unicode mapping and merges by rank.

#include <memory>
#include <string>

#include "tokenizer/tokenizer_backend.h"

namespace kvs {

// Throws KvsError naming the file, the part not understood and the fix (readBpeSpec).
std::unique_ptr<TokenizerBackend> loadBpeBackend(const std::string& tokenizerJsonPath);

}  // namespace kvs
