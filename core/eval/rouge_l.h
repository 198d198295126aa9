#pragma once
// Rouge-L F as LongBench computes it: the Python package `rouge` (pltrdy/rouge, version 1.0.1,
// rouge/rouge.py and rouge/rouge_score.py), called as
// Rouge().get_scores([hyp], [ref], avg=True)["rouge-l"]["f"].
//
// That package's "summary-level" Rouge-L, step by step:
//   sentences: the text split on "." (only "."), empty pieces dropped, each piece's whitespace
//     collapsed (" ".join(piece.split())), so a piece of only spaces becomes the sentence "";
//   words: each sentence split on single spaces (the sentence "" gives the word "");
//   m, n: the number of DISTINCT words of the reference and of the hypothesis (sets, since the
//     package's default is exclusive=True);
//   LCS words: for every reference sentence r and hypothesis sentence c, one longest common
//     subsequence of r's and c's words, the one its table walk reconstructs (from the ends: a
//     match is taken; else up when table[i-1][j] > table[i][j-1], else left), kept as a set;
//   llcs: the number of distinct words in the union of all those sets (the union is carried
//     from one reference sentence to the next, so a word counts once over the whole text);
//   R = llcs / m, P = llcs / n, F = 2 * (P * R) / (P + R + 1e-8).
// Words are compared exactly: no lower-casing, punctuation other than "." stays on its word.
// So a hypothesis equal to the reference scores 2 / (2 + 1e-8) = 0.99999999500..., not 1.

#include <optional>
#include <string>
#include <string_view>

namespace kvs::eval {

struct RougeL {
  double f = 0, p = 0, r = 0;
};

// The package's reconstruction recurses once per table step, and CPython stops it at its
// recursion limit (1000 frames): under LongBench's eval.py the deepest reconstruction that
// completes has 991 frames, i.e. 990 steps (measured with CPython 3.11 running eval.py's scorer
// on identical sentences of n words: n = 990 scores 100, n = 991 scores 0). Longer walks raise
// RecursionError, which LongBench's rouge_score turns into a score of 0.
inline constexpr size_t kPythonLcsWalkLimit = 990;

// The package's scores, or the exception it raises instead (LongBench then scores 0): no sentence
// on one side, a reconstruction past the recursion limit, or a table too large to hold.
struct RougeLOutcome {
  std::optional<RougeL> score;
  std::string failure;  // the exception the Python package raises, when score is empty
};

RougeLOutcome rougeLSummaryLevel(std::string_view hypothesis, std::string_view reference);

}  // namespace kvs::eval
