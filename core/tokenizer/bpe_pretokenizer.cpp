#include "tokenizer/bpe_pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "util/error.h"

namespace kvs {

namespace {

void freeCode(pcre2_code* c) {
  pcre2_code_free(c);
}

std::string pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof buffer);
  return n < 0 ? "PCRE2 error " + std::to_string(code)
               : std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

}  // namespace

struct BpeRegex::Impl {
  std::unique_ptr<pcre2_code, void (*)(pcre2_code*)> code{nullptr, freeCode};
  std::string file;
  bool jit = false;
};

BpeRegex::BpeRegex(const std::string& pattern, const std::string& file)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = file;
  int error = 0;
  PCRE2_SIZE offset = 0;
  // UCP: \s, \d, \w and case folding follow Unicode properties, as the Rust regex engines that
  // Hugging Face's tokenizers use (and JavaScript's /u) do.
  impl_->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr));
  require(impl_->code != nullptr, "tokenizer " + file +
                                      ": PCRE2 cannot compile the pre_tokenizer's regex (" +
                                      pcre2Message(error) + " at offset " + std::to_string(offset) +
                                      "); use the tokenizer.json published with the model");
  // JIT makes matching several times faster; without it (no JIT on this CPU) the interpreter
  // gives the same matches.
  impl_->jit = pcre2_jit_compile(impl_->code.get(), PCRE2_JIT_COMPLETE) == 0;
}

BpeRegex::BpeRegex(BpeRegex&&) noexcept = default;
BpeRegex::~BpeRegex() = default;

void BpeRegex::split(const std::string& text, size_t base,
                     std::vector<std::pair<size_t, size_t>>* pieces) const {
  using MatchData = std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)>;
  using JitStack = std::unique_ptr<pcre2_jit_stack, void (*)(pcre2_jit_stack*)>;
  using Context = std::unique_ptr<pcre2_match_context, void (*)(pcre2_match_context*)>;
  MatchData match(pcre2_match_data_create_from_pattern(impl_->code.get(), nullptr),
                  pcre2_match_data_free);
  // Long whitespace runs backtrack deeply in patterns like \s+(?!\S); the default 32 KiB JIT
  // stack would fail on them where the interpreter would not.
  JitStack stack(impl_->jit ? pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr) : nullptr,
                 pcre2_jit_stack_free);
  Context context(pcre2_match_context_create(nullptr), pcre2_match_context_free);
  require(match && context && (!impl_->jit || stack), "out of memory matching a regex");
  if (stack) pcre2_jit_stack_assign(context.get(), nullptr, stack.get());
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0, last = 0;
  while (start < text.size()) {
    // The text was checked to be UTF-8 once; PCRE2 need not check it again at each start.
    const int rc = pcre2_match(impl_->code.get(), subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                               match.get(), context.get());
    if (rc == PCRE2_ERROR_NOMATCH) break;
    require(rc >= 0, "tokenizer " + impl_->file +
                         ": the pre_tokenizer's regex failed on the text (" + pcre2Message(rc) +
                         "); use the tokenizer.json published with the model");
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const size_t b = ovector[0], e = ovector[1];
    if (b > last) {
      pieces->emplace_back(base + last, base + b);
      last = b;
    }
    if (e > b) {
      pieces->emplace_back(base + b, base + e);
      last = start = e;
    } else {
      // An empty match splits nothing; step over one character so the search moves on.
      start = b + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
        ++start;
      }
    }
  }
  if (last < text.size()) pieces->emplace_back(base + last, base + text.size());
}

std::string normalizeNfc(const std::string& text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  require(U_SUCCESS(status), std::string("ICU has no NFC normalizer: ") + u_errorName(status));
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(text);
  // Most text is already NFC; ICU answers that without building a copy.
  if (nfc->isNormalized(in, status) && U_SUCCESS(status)) return text;
  status = U_ZERO_ERROR;
  const icu::UnicodeString out = nfc->normalize(in, status);
  require(U_SUCCESS(status), std::string("NFC normalization failed: ") + u_errorName(status));
  std::string result;
  out.toUTF8String(result);
  return result;
}

}  // namespace kvs
