// LongBench's metrics and scorer (core/eval) against values worked out by hand from
// THUDM/LongBench's metrics.py and eval.py, the `rouge` package's Rouge-L and difflib's ratio.
// Each expected value below says how it follows; all were also checked against the Python code.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eval/longbench_metrics.h"
#include "eval/longbench_scorer.h"
#include "eval/python_text.h"
#include "eval/rouge_l.h"
#include "eval/sequence_matcher.h"
#include "test_util.h"

namespace kvs::eval {
namespace {

// Rouge-L F from the package's formula, for llcs shared words of m reference and n hypothesis
// words.
double rougeF(double llcs, double m, double n) {
  const double r = llcs / m, p = llcs / n;
  return 2.0 * ((p * r) / (p + r + 1e-8));
}

// "w0 w1 ... w(n-1)", or with another prefix.
std::string words(int n, const std::string& prefix = "w") {
  std::string text;
  for (int i = 0; i < n; ++i) text += (i ? " " : "") + prefix + std::to_string(i);
  return text;
}

TEST(QaF1, NormalisationOfTheIssuesExamples) {
  // "the" goes, "!" goes, case goes: {eiffel, tower} on both sides.
  EXPECT_DOUBLE_EQ(qaF1Score("The Eiffel tower!", "eiffel tower"), 1.0);
  // One shared word of three predicted and one true: P = 1/3, R = 1, F1 = (2/3) / (4/3).
  EXPECT_DOUBLE_EQ(qaF1Score("in Paris France", "Paris"), 0.5);
  EXPECT_EQ(normalizeAnswer("The  Cat's, an apple!"), "cats apple");
  EXPECT_EQ(normalizeAnswer("Anna and the band"), "anna and band");  // articles only as words
}

TEST(QaF1, CountsRepeatedWordsAsAMultiset) {
  // Counter("x x y") & Counter("x y y") = {x: 1, y: 1}: 2 shared of 3 and 3.
  EXPECT_DOUBLE_EQ(qaF1Score("x x y", "x y y"), 2.0 / 3.0);
}

TEST(QaF1, TreatsTextAsPythonTreatsStr) {
  EXPECT_DOUBLE_EQ(qaF1Score("ÉCOLE", "école"), 1.0);  // str.lower() is Unicode-aware
  // str.split() splits on a no-break space: {paris, france} against {france}.
  EXPECT_DOUBLE_EQ(qaF1Score("Paris\u00a0France", "France"), 2.0 / 3.0);
  // re's \w is Unicode: "aé" is one word, not the article "a" before "é"; a thin space splits.
  EXPECT_EQ(normalizeAnswer("a\u00e9 the\u2009b"), "a\u00e9 b");
}

TEST(QaF1, PropertiesEqualScoresOneDisjointScoresZero) {
  for (const char* answer : {"Paris", "the Eiffel Tower", "1889", "Gustave Eiffel's company"}) {
    EXPECT_DOUBLE_EQ(qaF1Score(answer, answer), 1.0) << answer;
    EXPECT_DOUBLE_EQ(qaF1Score(std::string(answer) + "!", answer), 1.0) << answer;
  }
  EXPECT_DOUBLE_EQ(qaF1Score("London Bridge", "Eiffel Tower"), 0.0);
  // An answer of articles alone normalises to nothing, and nothing shares no word: 0 as well.
  EXPECT_DOUBLE_EQ(qaF1Score("the", "the"), 0.0);
}

TEST(RougeL, OneSentence) {
  // Distinct words: reference {the, cat, is, on, mat} (m = 5), hypothesis {the, cat, sat, on, mat}
  // (n = 5); the LCS "the cat on the mat" has 4 distinct words.
  EXPECT_DOUBLE_EQ(rougeScore("the cat sat on the mat", "the cat is on the mat"), rougeF(4, 5, 5));
  EXPECT_NEAR(rougeF(4, 5, 5), 0.79999999500, 1e-11);
}

TEST(RougeL, SeveralHypothesisSentencesUnionTheirLcs) {
  // The package's own example: r = w1..w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5. LCS(r, c1) =
  // {w1, w2}, LCS(r, c2) = {w1, w3, w5}: union 4. m = 5, n = 8 distinct words in c1 + c2.
  EXPECT_DOUBLE_EQ(rougeScore("w1 w2 w6 w7 w8. w1 w3 w8 w9 w5", "w1 w2 w3 w4 w5"), rougeF(4, 5, 8));
}

TEST(RougeL, TheUnionIsCarriedAcrossReferenceSentences) {
  // Reference sentences "a b" and "a b": the second adds no new word, so llcs = 2 = m = n.
  EXPECT_DOUBLE_EQ(rougeScore("a b", "a b. a b"), rougeF(2, 2, 2));
}

TEST(RougeL, ASpaceAfterTheLastPeriodIsASentenceWithTheEmptyWord) {
  // "cat. " splits into "cat" and " ", which becomes the sentence "" with the word "".
  EXPECT_DOUBLE_EQ(rougeScore("cat. ", "cat. "), rougeF(2, 2, 2));
  // Without the trailing space the hypothesis has only "cat": llcs 1, m = 2, n = 1.
  EXPECT_DOUBLE_EQ(rougeScore("cat.", "cat. "), rougeF(1, 2, 1));
}

TEST(RougeL, IdenticalTextScoresJustUnderOne) {
  EXPECT_DOUBLE_EQ(rougeScore("The meeting ended. All agreed.", "The meeting ended. All agreed."),
                   2.0 / (2.0 + 1e-8));
}

TEST(RougeL, WhatThePackageRaisesOnScoresZero) {
  EXPECT_EQ(rougeScore("...", "abc"), 0.0);  // no sentence: ValueError
  EXPECT_EQ(rougeScore("", "abc"), 0.0);
  EXPECT_FALSE(rougeLSummaryLevel("", "abc").failure.empty());
  EXPECT_EQ(rougeScore("Cat", "cat"), 0.0);  // words are compared as they are
}

TEST(RougeL, ReconstructionsPastPythonsRecursionLimitScoreZero) {
  // Identical sentences of n words: a diagonal walk of n steps. 990 completes under CPython,
  // 991 raises RecursionError (measured with LongBench's eval.py).
  EXPECT_GT(rougeScore(words(990), words(990)), 0.99);
  EXPECT_EQ(rougeScore(words(991), words(991)), 0.0);
  EXPECT_NE(rougeLSummaryLevel(words(991), words(991)).failure.find("RecursionError"),
            std::string::npos);
  // A short reference, a long hypothesis: from (2, k + 1) the walk goes left k times, up once
  // and takes w0: k + 2 steps. k = 988 completes (llcs 1, m = 2, n = 989), k = 989 does not.
  EXPECT_DOUBLE_EQ(rougeScore("w0 " + words(988, "x"), "w0 w1"), rougeF(1, 2, 989));
  EXPECT_EQ(rougeScore("w0 " + words(989, "x"), "w0 w1"), 0.0);
}

TEST(RougeL, TiesInTheWalkGoLeft) {
  // LCS("a b", "b a") is "a" or "b"; the walk, preferring left on a tie, takes "b", the word the
  // second sentence "b" shares too: llcs 1 of m = n = 2. Going up would take "a": llcs 2.
  EXPECT_DOUBLE_EQ(rougeScore("b a. b", "a b"), rougeF(1, 2, 2));
}

TEST(Classification, OneOverTheMatchedClassesWhenTheTruthIsAmongThem) {
  const std::vector<std::string> classes = {"Human", "Human being", "Location", "Entity"};
  // Matches Human and Human being; Human is part of the truth, so dropped: 1/1.
  EXPECT_DOUBLE_EQ(classificationScore("It is a Human being.", "Human being", classes), 1.0);
  // Human being and Location remain: 1/2.
  EXPECT_DOUBLE_EQ(classificationScore("Human being or Location", "Human being", classes), 0.5);
  EXPECT_DOUBLE_EQ(classificationScore("Location", "Human being", classes), 0.0);
}

TEST(Classification, KeepsMetricsPysSkipAfterARemoval) {
  // Matched [Hum, Human, Human being]: removing Hum shifts Human into the visited slot, so Human
  // (also part of the truth) is never checked and stays: 1/2, where a careful loop gives 1.
  EXPECT_DOUBLE_EQ(
      classificationScore("Human being", "Human being", {"Hum", "Human", "Human being"}), 0.5);
}

TEST(Retrieval, TheParagraphNumberAgainstEveryNumberInThePrediction) {
  EXPECT_DOUBLE_EQ(retrievalScore("Paragraph 12", "Paragraph 12"), 1.0);
  EXPECT_DOUBLE_EQ(retrievalScore("Paragraph 3 and Paragraph 12", "Paragraph 12"), 0.5);
  EXPECT_DOUBLE_EQ(retrievalScore("none of them", "Paragraph 12"), 0.0);
  EXPECT_DOUBLE_EQ(retrievalScore("Paragraph 012", "Paragraph 12"), 0.0);  // text, not value
  // re's \d is Unicode: the Arabic-Indic three is a number too, and not "12".
  EXPECT_DOUBLE_EQ(retrievalScore("12 \u0663", "Paragraph 12"), 0.5);
  EXPECT_NE(test::errorOf([] { retrievalScore("12", "the twelfth"); }).find("Paragraph N"),
            std::string::npos);
}

TEST(Count, TheShareOfNumbersEqualToTheAnswer) {
  EXPECT_DOUBLE_EQ(countScore("There are 3 unique paragraphs", "3"), 1.0);
  EXPECT_DOUBLE_EQ(countScore("3 or 4", "3"), 0.5);
  EXPECT_DOUBLE_EQ(countScore("3, 3 and 4", "3"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(countScore("three", "3"), 0.0);
}

TEST(CodeSim, ScoresTheFirstLineThatIsNotAFenceOrComment) {
  EXPECT_EQ(codeSimLine("\n\n```python\n# comment\n// also\nx = foo(1)\ny = 2\n"), "x = foo(1)");
  EXPECT_EQ(codeSimLine("# only\n// comments"), "");
  // difflib: "x = foo(" (8) then ")" (1) match: 2 * 9 / 20 = 0.9.
  EXPECT_DOUBLE_EQ(codeSimScore("```\nx = foo(1)", "x = foo(2)"), 0.9);
}

TEST(CodeSim, FuzzRatioIsDifflibsRoundedHalfToEven) {
  // One shared character ("h") in 8 + 8: 100 * 2 / 16 = 12.5, which Python rounds to 12.
  EXPECT_DOUBLE_EQ(sequenceMatcherRatio(U"abcdefgh", U"hijklmno"), 0.125);
  EXPECT_EQ(fuzzRatio("abcdefgh", "hijklmno"), 12);
  EXPECT_EQ(fuzzRatio("same", "same"), 100);
  EXPECT_EQ(fuzzRatio("", "x"), 0);
  // fuzzywuzzy checks equality before emptiness: an all-comment prediction against "" is 100.
  EXPECT_DOUBLE_EQ(codeSimScore("# only", ""), 1.0);
}

TEST(CodeSim, DifflibsAutojunkDropsPopularCharactersOfLongTruths) {
  // b has 201 characters, so "a" (200 times, more than 201 / 100 + 1) is popular: no match can
  // start on it and "x" is not in b, so nothing matches. Without autojunk (or with an edit
  // distance) "aaaa" would match: 2 * 4 / 206, a fuzz ratio of 4.
  const std::string truth = std::string(200, 'a') + "b";
  EXPECT_EQ(fuzzRatio("xaaaa", truth), 0);
  // A match on a non-popular character does extend over popular neighbours: "ab" from "b",
  // leaving "x" unmatched: 2 * 2 / (3 + 201).
  EXPECT_DOUBLE_EQ(sequenceMatcherRatio(U"xab", decodeUtf8(truth)), 4.0 / 204.0);
}

TEST(CodeSim, PropertiesEqualScoresOneDisjointScoresZero) {
  EXPECT_DOUBLE_EQ(codeSimScore("return x + 1;", "return x + 1;"), 1.0);
  EXPECT_DOUBLE_EQ(codeSimScore("abc", "xyz"), 0.0);
}

TEST(Scorer, FirstLineRule) {
  EXPECT_EQ(firstLine("\n\nLocation\nHuman being"), "Location");
  EXPECT_EQ(firstLine("\n\n"), "");
  const std::vector<std::string> classes = {"Location", "Human being"};
  // trec-like: only "Location" is scored when the rule applies.
  EXPECT_DOUBLE_EQ(sampleScore(LongBenchMetric::kClassification, true, "\nLocation\nHuman being",
                               {"Location"}, classes),
                   1.0);
  EXPECT_DOUBLE_EQ(sampleScore(LongBenchMetric::kClassification, false, "\nLocation\nHuman being",
                               {"Location"}, classes),
                   0.5);
}

TEST(Scorer, BestOverTheGroundTruths) {
  EXPECT_DOUBLE_EQ(sampleScore(LongBenchMetric::kQaF1, false, "in Paris", {"London", "Paris"}, {}),
                   2.0 / 3.0);
  EXPECT_DOUBLE_EQ(sampleScore(LongBenchMetric::kQaF1, false, "Paris", {}, {}), 0.0);
}

TEST(Scorer, TaskScoreIsAHundredTimesTheMeanRoundedAsPython) {
  EXPECT_DOUBLE_EQ(taskScore({1.0, 0.5, 0.0}), 50.0);
  EXPECT_DOUBLE_EQ(taskScore({1.0 / 3, 1.0 / 3, 1.0 / 3}), 33.33);
  EXPECT_DOUBLE_EQ(taskScore({0.0, 2.0 / 3, 0.0}), 22.22);
  // 100 * 0.02675 is 2.675 (just under in binary): Python's round gives 2.67 where NumPy's gives
  // 2.68, and eval.py's scorer uses Python's.
  EXPECT_DOUBLE_EQ(taskScore({0.02675}), 2.67);
  EXPECT_FALSE(test::errorOf([] { taskScore({}); }) == "(no error)");
}

TEST(Scorer, PythonAndNumpyRoundDifferently) {
  // 2.675 is stored as 2.67499999999999982236431605997495353221893310546875.
  EXPECT_DOUBLE_EQ(roundLikePython(2.675, 2), 2.67);  // the exact value rounded
  // NumPy multiplies first: 2.675 * 100 rounds to exactly 267.5, a tie rint takes to 268.
  EXPECT_DOUBLE_EQ(roundLikeNumpy(2.675, 2), 2.68);
  EXPECT_DOUBLE_EQ(roundLikePython(0.125, 2), 0.12);  // an exact tie goes to even
}

TEST(Scorer, NumpySumIsPairwise) {
  // Eight accumulators: (1e16 + 1) loses the 1, the other six ones survive, then -1e16 and 1:
  // NumPy's sum is 7 where a running sum gives 1.
  const std::vector<double> values = {1e16, 1, 1, 1, 1, 1, 1, 1, -1e16, 1};
  EXPECT_DOUBLE_EQ(numpySum(values), 7.0);
}

TEST(Scorer, LongBenchEBucketsByLength) {
  const LengthBucketScores b = taskScoreByLength({1.0, 0.0, 0.5, 1.0}, {3999, 4000, 7999, 8000});
  ASSERT_TRUE(b.upTo4k && b.from4kTo8k && b.from8k);
  EXPECT_DOUBLE_EQ(*b.upTo4k, 100.0);
  EXPECT_DOUBLE_EQ(*b.from4kTo8k, 25.0);
  EXPECT_DOUBLE_EQ(*b.from8k, 100.0);
  EXPECT_EQ(b.count[1], 2);
  EXPECT_FALSE(taskScoreByLength({1.0}, {100}).from8k.has_value());  // NumPy's nan
  // scorer_e's round(100 * np.mean(...), 2) is NumPy's: 2.68 where scorer's gives 2.67.
  EXPECT_DOUBLE_EQ(*taskScoreByLength({0.02675}, {100}).upTo4k, 2.68);
  // and np.mean sums pairwise: (7 / 10) x 100, where a running sum would give 10.
  const std::vector<double> values = {1e16, 1, 1, 1, 1, 1, 1, 1, -1e16, 1};
  EXPECT_DOUBLE_EQ(*taskScoreByLength(values, std::vector<long long>(10, 0)).upTo4k, 70.0);
}

TEST(Metrics, ChineseMetricsAreRefusedByName) {
  const std::string message =
      test::errorOf([] { metricScore(LongBenchMetric::kRougeZh, "a", "b", {}); });
  EXPECT_NE(message.find("rouge_zh_score"), std::string::npos) << message;
  EXPECT_NE(message.find("jieba"), std::string::npos) << message;
  EXPECT_EQ(metricFromName("code_sim_score"), LongBenchMetric::kCodeSim);
  EXPECT_FALSE(metricFromName("bleu").has_value());
}

}  // namespace
}  // namespace kvs::eval
