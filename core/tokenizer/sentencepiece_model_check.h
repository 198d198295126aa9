#pragma once
// Checks the bytes of a SentencePiece .model file (a serialized ModelProto) before SentencePiece
// loads them. SentencePiece 0.1.97 rejects many damaged models itself, but trusts others and
// crashes on them: a normalization trie that leads outside its blob, or a BOS piece that is not a
// control piece (bos_id() is then -1, and every prompt begins with it).

#include <string>
#include <string_view>

namespace kvs {

// Throws KvsError naming `path`, what is wrong and the fix unless:
// - the bytes are well-formed protobuf with at least one piece, none holding a NUL byte;
// - trainer_spec's unk_id names an UNKNOWN piece; bos_id (required: Llama prompts begin with
//   BOS) and eos_id, pad_id (when >= 0) name CONTROL pieces, BOS and EOS under the names
//   SentencePiece looks them up by (bos_piece, eos_piece);
// - the model type is one SentencePiece knows;
// - the normalizer's and denormalizer's precompiled_charsmap pass charsmapProblem().
// What SentencePiece itself checks (duplicate or empty pieces, byte pieces) is left to it.
void checkSentencePieceModel(std::string_view bytes, const std::string& path);

// Text from a file (a piece, a SentencePiece status) fit for a one-line message: control bytes,
// newlines included, as \xNN; at most maxBytes bytes, then "...".
std::string shownOnOneLine(std::string_view text, size_t maxBytes = 40);

}  // namespace kvs
