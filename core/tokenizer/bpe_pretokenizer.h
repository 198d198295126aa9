#pragma once
// The text-level steps of a byte-level BPE before its merges: the optional NFC normalizer (ICU)
// and the pre-tokenizer's split regexes, compiled as the file gives them by PCRE2 (UTF mode,
// Unicode properties for \s, \p{L}, \p{N} and case-insensitive groups).

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kvs {

class BpeRegex {
 public:
  // Throws KvsError naming file when PCRE2 rejects the pattern.
  BpeRegex(const std::string& pattern, const std::string& file);
  BpeRegex(BpeRegex&&) noexcept;
  ~BpeRegex();

  // Hugging Face's Split with behavior Isolated: every match, and every run between matches,
  // becomes a piece. Appends [begin, end) byte ranges of text (valid UTF-8) to pieces, offset by
  // base. Throws KvsError when PCRE2 gives up (its match limit on a pathological pattern).
  void split(const std::string& text, size_t base,
             std::vector<std::pair<size_t, size_t>>* pieces) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Canonical composition (Unicode NFC) of valid UTF-8 text.
std::string normalizeNfc(const std::string& text);

}  // namespace kvs
