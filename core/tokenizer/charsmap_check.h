#pragma once
// Checks a SentencePiece precompiled_charsmap (the normalization rules of a .model file) before
// SentencePiece uses it: SentencePiece trusts the blob and walks its double-array trie without a
// bound, so a damaged one reads outside the file's memory (a crash, or silently wrong tokens).

#include <string>
#include <string_view>

namespace kvs {

// Empty when `blob` is safe for SentencePiece 0.1.97 to normalize any input with; otherwise what
// is wrong, e.g. "its trie size (8 bytes) ...". The layout is <trie bytes: uint32 little-endian>
// <double-array trie: uint32 units> <NUL-terminated replacement strings>; every state the trie
// can reach on any byte must stay inside the trie, every match must point into the strings, and
// no input may match more than SentencePiece's 32 prefixes at once.
std::string charsmapProblem(std::string_view blob);

}  // namespace kvs
