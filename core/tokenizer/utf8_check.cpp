#include "tokenizer/utf8_check.h"

namespace kvs {

namespace {
const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}  // namespace

Utf8 checkUtf8(const std::string& s, size_t pos, size_t* length) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  const unsigned char lead = b(0);
  *length = 1;
  if (lead < 0x80) return Utf8::kValid;
  // Unicode's table of well-formed sequences (Table 3-7): the second byte's range depends on the
  // lead, which rules out overlong forms, surrogates and values past U+10FFFF.
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return Utf8::kInvalid;
  }
  for (size_t i = 1; i < need; ++i) {
    if (pos + i >= s.size()) {
      *length = i;
      return Utf8::kIncomplete;
    }
    const unsigned char c = b(i);
    if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
      *length = i;
      return Utf8::kInvalid;
    }
  }
  *length = need;
  return Utf8::kValid;
}

std::string takeUtf8(std::string* pending, bool final, Utf8Replacement replacement) {
  std::string out;
  size_t pos = 0;
  while (pos < pending->size()) {
    size_t length = 1;
    const Utf8 state = checkUtf8(*pending, pos, &length);
    if (state == Utf8::kIncomplete && !final) break;
    if (state == Utf8::kValid) {
      out.append(*pending, pos, length);
    } else {
      out += kReplacement;
      if (replacement == Utf8Replacement::kPerByte) length = 1;
    }
    pos += length;
  }
  pending->erase(0, pos);
  return out;
}

size_t firstInvalidUtf8(const std::string& text) {
  for (size_t pos = 0, length = 1; pos < text.size(); pos += length) {
    if (checkUtf8(text, pos, &length) != Utf8::kValid) return pos;
  }
  return std::string::npos;
}

}  // namespace kvs
