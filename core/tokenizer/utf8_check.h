#pragma once
// UTF-8 as the tokenizers' decoders read it: which bytes form a character, and what an ill-formed
// run of bytes becomes (U+FFFD, per byte as SentencePiece does, or per maximal subpart as Hugging
// Face's String::from_utf8_lossy and JavaScript's TextDecoder do).

#include <cstddef>
#include <string>

namespace kvs {

enum class Utf8 { kValid, kInvalid, kIncomplete };

// The sequence starting at s[pos] (pos < s.size()). kValid: a well-formed, shortest-form scalar
// value of *length bytes. kIncomplete: s ends inside a well-formed prefix. kInvalid: *length is
// the maximal subpart, the longest prefix of a well-formed sequence (at least 1).
Utf8 checkUtf8(const std::string& s, size_t pos, size_t* length);

enum class Utf8Replacement { kPerByte, kPerMaximalSubpart };

// Moves the complete characters at the front of *pending to the result, ill-formed bytes as
// U+FFFD; an incomplete character at the end stays in *pending unless final.
std::string takeUtf8(std::string* pending, bool final, Utf8Replacement replacement);

// Offset of the first byte of text that is not well-formed UTF-8, or npos.
size_t firstInvalidUtf8(const std::string& text);

}  // namespace kvs
