#include "tokenizer/token_stream_decoder.h"

#include <cstdlib>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_check.h"

namespace kvs {
namespace {

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's space

}  // namespace

TokenStreamDecoder::TokenStreamDecoder(const Tokenizer& tokenizer, bool atTextStart)
    : tokenizer_(tokenizer), atStart_(atTextStart) {}

std::string TokenStreamDecoder::drainBytes(bool final) {
  return takeUtf8(&pendingBytes_, final,
                  tokenizer_.kind() == TokenizerKind::kByteLevelBpe
                      ? Utf8Replacement::kPerMaximalSubpart
                      : Utf8Replacement::kPerByte);
}

std::string TokenStreamDecoder::push(int id) {
  if (tokenizer_.kind() == TokenizerKind::kByteLevelBpe) {
    // Hugging Face drops special tokens before it joins the bytes, so bytes pending before one
    // may still be completed by the bytes after it.
    if (tokenizer_.isControl(id)) return "";
    pendingBytes_ += tokenizer_.tokenBytes(id);
    return drainBytes(false);
  }
  if (tokenizer_.isByte(id)) {
    // Byte pieces are "<0xNN>".
    pendingBytes_ += static_cast<char>(std::strtol(tokenizer_.piece(id).c_str() + 3, nullptr, 16));
    atStart_ = false;
    return drainBytes(false);
  }
  std::string out = drainBytes(true);
  if (tokenizer_.isControl(id)) return out;  // <s>, </s>: invisible
  std::string piece;
  if (tokenizer_.isUnknown(id)) {
    piece = tokenizer_.unknownSurface();
  } else {
    piece = tokenizer_.piece(id);
    if (atStart_ && piece.compare(0, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
      piece.erase(0, kSpaceSymbol.size());
    }
    for (size_t pos = 0; (pos = piece.find(kSpaceSymbol, pos)) != std::string::npos;) {
      piece.replace(pos, kSpaceSymbol.size(), " ");
      pos += 1;
    }
  }
  atStart_ = false;
  return out + piece;
}

std::string TokenStreamDecoder::finish() {
  return drainBytes(true);
}

std::string decodeStream(const Tokenizer& tokenizer, const std::vector<int>& ids,
                         bool atTextStart) {
  TokenStreamDecoder decoder(tokenizer, atTextStart);
  std::string text;
  for (int id : ids) text += decoder.push(id);
  return text + decoder.finish();
}

}  // namespace kvs
