#include "tokenizer/token_stream_decoder.h"

#include <cstdlib>

#include "tokenizer/tokenizer.h"

namespace kvs {
namespace {

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's space
const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8 { kValid, kInvalid, kIncomplete };

// Like SentencePiece's string_util::DecodeUTF8: a well-formed, shortest-form scalar value.
Utf8 checkUtf8(const std::string& s, size_t* length) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = b(0);
  size_t need;
  uint32_t cp, min;
  if (lead < 0x80) {
    *length = 1;
    return Utf8::kValid;
  } else if ((lead & 0xE0) == 0xC0) {
    need = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    need = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    need = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return Utf8::kInvalid;
  }
  for (size_t i = 1; i < need; ++i) {
    if (i >= s.size()) return Utf8::kIncomplete;
    if ((b(i) & 0xC0) != 0x80) return Utf8::kInvalid;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  const bool scalar = cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
  if (cp < min || !scalar) return Utf8::kInvalid;
  *length = need;
  return Utf8::kValid;
}

}  // namespace

TokenStreamDecoder::TokenStreamDecoder(const Tokenizer& tokenizer, bool atTextStart)
    : tokenizer_(tokenizer), atStart_(atTextStart) {}

std::string TokenStreamDecoder::drainBytes(bool final) {
  std::string out;
  while (!pendingBytes_.empty()) {
    size_t length = 1;
    const Utf8 state = checkUtf8(pendingBytes_, &length);
    if (state == Utf8::kIncomplete && !final) break;
    if (state == Utf8::kValid) {
      out += pendingBytes_.substr(0, length);
    } else {
      out += kReplacement;
      length = 1;
    }
    pendingBytes_.erase(0, length);
  }
  return out;
}

std::string TokenStreamDecoder::push(int id) {
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
