#pragma once
// Python's str semantics on UTF-8 text, as far as LongBench's scoring depends on them.
//
// LongBench scores with Python: str.lower(), str.split(), re's \d and \b, all on code points and
// Unicode-aware. A byte-wise C++ port would score "ÉTÉ" against "été" or "٣" (an Arabic-Indic
// three) differently from LongBench's published numbers, so the metrics work on code points with
// these helpers. Where the exact Unicode tables would be large, the approximation used is stated
// at the function; the tables given here were generated from CPython 3.11's unicodedata
// (Unicode 14.0).

#include <string>
#include <string_view>
#include <vector>

namespace kvs::eval {

// The code points of UTF-8 text. Ill-formed bytes each become U+FFFD (text read through
// nlohmann-json is always well-formed: the parser rejects anything else).
std::u32string decodeUtf8(std::string_view text);
std::string encodeUtf8(std::u32string_view text);

// str.isspace(): the 29 code points Python's str.split() with no argument splits on (ASCII
// whitespace, U+001C..U+001F, U+0085, U+00A0, the Unicode space separators, U+2028, U+2029).
bool isPythonSpace(char32_t c);

// re's \d in a str pattern: Unicode category Nd (ASCII 0-9 and the other scripts' decimal
// digits, 660 code points in 66 runs of ten).
bool isPythonDecimal(char32_t c);

// re's \w in a str pattern: str.isalnum() or '_'. Exact for ASCII; for other code points glibc's
// C.UTF-8 classes stand in for Python's (they differ on combining marks and on numeric symbols
// such as superscripts, which matters only for an article glued to one, e.g. "a\u0301").
bool isPythonWordChar(char32_t c);

// str.lower(). glibc's C.UTF-8 case mapping agrees with Python's on every code point except
// U+0130 (İ, which Python lowers to "i" + U+0307, handled here) and Greek final sigma, which
// Python writes as ς at the end of a word and this writes as σ.
std::u32string pythonLower(std::u32string_view text);

// str.split() with no argument: runs of isPythonSpace separate, empty pieces are dropped.
std::vector<std::u32string> pythonSplit(std::u32string_view text);

// str.split(sep) with a one-character separator: every piece, empty ones included.
std::vector<std::u32string> splitOn(std::u32string_view text, char32_t separator);

std::u32string join(const std::vector<std::u32string>& pieces, std::u32string_view separator);

}  // namespace kvs::eval
