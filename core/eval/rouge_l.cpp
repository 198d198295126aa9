#include "eval/rouge_l.h"

#include <cstdint>
#include <set>
#include <vector>

#include "eval/python_text.h"

namespace kvs::eval {
namespace {

using Words = std::vector<std::u32string>;

// [" ".join(s.split()) for s in text.split(".") if len(s) > 0]
std::vector<std::u32string> sentencesOf(std::string_view text) {
  std::vector<std::u32string> sentences;
  for (const std::u32string& piece : splitOn(decodeUtf8(text), U'.')) {
    if (!piece.empty()) sentences.push_back(join(pythonSplit(piece), U" "));
  }
  return sentences;
}

Words wordsOf(const std::u32string& sentence) {
  return splitOn(sentence, U' ');
}

std::set<std::u32string> distinctWords(const std::vector<std::u32string>& sentences) {
  std::set<std::u32string> words;
  for (const std::u32string& sentence : sentences) {
    for (std::u32string& word : wordsOf(sentence)) words.insert(std::move(word));
  }
  return words;
}

// A table past this many cells (2 bytes each) is refused rather than allocated: the Python
// package would need a dict of that many tuple keys, several GB, and LongBench scores a
// MemoryError as 0 too.
constexpr size_t kMostTableCells = size_t{64} << 20;

// The words of the LCS of x (reference words) and y (hypothesis words) that the package's _recon
// walk picks, added to `lcsWords`; false when the walk is longer than CPython lets it recurse.
bool addLcsWords(const Words& x, const Words& y, std::set<std::u32string>& lcsWords,
                 std::string& failure) {
  const size_t n = x.size(), m = y.size();
  // Every step lowers i or j by at most one and the walk ends at i == 0 or j == 0, so it takes
  // at least min(n, m) steps.
  if (std::min(n, m) > kPythonLcsWalkLimit) {
    failure = "RecursionError: maximum recursion depth exceeded";
    return false;
  }
  if ((n + 1) * (m + 1) > kMostTableCells) {
    failure = "MemoryError: a sentence pair of " + std::to_string(n) + " x " + std::to_string(m) +
              " words";
    return false;
  }
  // table[i][j]: the LCS length of x[0..i) and y[0..j); at most min(n, m) <= 990, so 16 bits.
  std::vector<uint16_t> table((n + 1) * (m + 1), 0);
  const auto at = [&](size_t i, size_t j) -> uint16_t& { return table[i * (m + 1) + j]; };
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      at(i, j) = x[i - 1] == y[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  size_t i = n, j = m, steps = 0;
  while (i > 0 && j > 0) {
    if (++steps > kPythonLcsWalkLimit) {
      failure = "RecursionError: maximum recursion depth exceeded";
      return false;
    }
    if (x[i - 1] == y[j - 1]) {
      lcsWords.insert(x[i - 1]);
      --i;
      --j;
    } else if (at(i - 1, j) > at(i, j - 1)) {
      --i;
    } else {
      --j;
    }
  }
  return true;
}

}  // namespace

RougeLOutcome rougeLSummaryLevel(std::string_view hypothesis, std::string_view reference) {
  const std::vector<std::u32string> hypSentences = sentencesOf(hypothesis);
  const std::vector<std::u32string> refSentences = sentencesOf(reference);
  if (hypSentences.empty() || refSentences.empty()) {
    // rouge_n, computed first for rouge-1, raises this for an empty hypothesis or reference.
    return {std::nullopt, hypSentences.empty() ? "ValueError: Hypothesis is empty."
                                               : "ValueError: Reference is empty."};
  }
  const double m = static_cast<double>(distinctWords(refSentences).size());
  const double n = static_cast<double>(distinctWords(hypSentences).size());

  std::set<std::u32string> lcsUnion;
  std::string failure;
  for (const std::u32string& refSentence : refSentences) {
    const Words refWords = wordsOf(refSentence);
    for (const std::u32string& hypSentence : hypSentences) {
      if (!addLcsWords(refWords, wordsOf(hypSentence), lcsUnion, failure)) {
        return {std::nullopt, failure};
      }
    }
  }
  const double llcs = static_cast<double>(lcsUnion.size());
  RougeL score;
  score.r = llcs / m;
  score.p = llcs / n;
  score.f = 2.0 * ((score.p * score.r) / (score.p + score.r + 1e-8));
  return {score, ""};
}

}  // namespace kvs::eval
