#pragma once
// Turns a stream of token ids into text as they are generated, giving exactly the text the
// tokenizer's decode gives for the whole sequence. SentencePiece: byte-fallback pieces are held
// back until they complete a UTF-8 character (invalid bytes become U+FFFD, one per byte, as
// SentencePiece does), and the leading space of the first piece is dropped only at the start of a
// text. Byte-level BPE: every token is bytes, held back likewise (an ill-formed run becomes one
// U+FFFD per maximal subpart, as Hugging Face's decode does); special tokens are invisible.

#include <string>
#include <vector>

namespace kvs {

class Tokenizer;

class TokenStreamDecoder {
 public:
  // atTextStart: the first piece begins the text (its leading space is dropped); false when
  // continuing after text already shown, e.g. the generated continuation of a prompt.
  TokenStreamDecoder(const Tokenizer& tokenizer, bool atTextStart);

  // Text that became final with this token (may be empty while bytes are pending).
  std::string push(int id);
  // Text of any bytes still pending at the end of the stream.
  std::string finish();

 private:
  std::string drainBytes(bool final);

  const Tokenizer& tokenizer_;
  bool atStart_;
  std::string pendingBytes_;
};

// All of ids through a TokenStreamDecoder: e.g. a continuation (atTextStart false) keeps the
// leading space of its first piece, which SentencePiece's Decode of the ids alone would drop.
std::string decodeStream(const Tokenizer& tokenizer, const std::vector<int>& ids, bool atTextStart);

}  // namespace kvs
