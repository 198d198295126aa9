#pragma once
// LongBench's metrics, as THUDM/LongBench's LongBench/metrics.py computes them (read at commit
// 2e00731f8d0b; its behaviour is that of its first version, 2023-07-29, before the published
// numbers: the one later change, 2023-11's "refine", removed a branch that never ran, guarded by
// `em_match_list != 0`, always true for a list). Each takes one prediction and one
// ground truth and returns a score in [0, 1]; the scorer (longbench_scorer.h) takes the best over
// a sample's ground truths and averages a task.
//
// Text is handled as Python handles str (python_text.h): code points, Unicode lower-casing and
// whitespace, re's Unicode \d. The Chinese metrics (qa_f1_zh_score, rouge_zh_score: jieba word
// segmentation) are not implemented; metricScore refuses them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvs::eval {

// The metric functions of metrics.py, in the order eval.py's dataset2metric first uses them.
enum class LongBenchMetric {
  kQaF1,            // qa_f1_score
  kQaF1Zh,          // qa_f1_zh_score (refused: needs jieba)
  kRougeZh,         // rouge_zh_score (refused: needs jieba)
  kRouge,           // rouge_score
  kClassification,  // classification_score
  kRetrieval,       // retrieval_score
  kCount,           // count_score
  kRetrievalZh,     // retrieval_zh_score (refused with the Chinese tasks)
  kCodeSim,         // code_sim_score
};

// The metric's function name in metrics.py ("qa_f1_score"), and back.
std::string metricName(LongBenchMetric metric);
std::optional<LongBenchMetric> metricFromName(std::string_view name);

// normalize_answer: lower-case, ASCII punctuation (string.punctuation) removed, the words "a",
// "an" and "the" removed (re's \b(a|an|the)\b), whitespace runs collapsed to one space.
std::string normalizeAnswer(std::string_view text);

// Token F1 of the normalised texts' words (a multiset intersection, as collections.Counter's &);
// 0 when no word is shared.
double qaF1Score(std::string_view prediction, std::string_view groundTruth);

// Rouge-L F of the `rouge` package (rouge_l.h); 0 where the package raises (an empty side, a
// sentence pair too long for Python's recursion limit), as LongBench's bare `except` makes it.
double rougeScore(std::string_view prediction, std::string_view groundTruth);

// 1 / (number of matched classes) when the ground truth is among the class names found in the
// prediction (plain substring search), else 0. Before that, matched classes that are part of the
// ground truth without being it are dropped, with metrics.py's quirk kept: it removes from the
// list while iterating over it, so the element after each removed one is skipped (not checked).
double classificationScore(std::string_view prediction, std::string_view groundTruth,
                           const std::vector<std::string>& allClasses);

// The paragraph number of the ground truth (the first match of re's "Paragraph (\d+)", Unicode
// \d, matched by hand here) against every number (\d+ run) in the prediction: the share of the
// numbers that equal it as text ("07" is not "7"); 0 without numbers. A ground truth without
// "Paragraph N" throws KvsError (LongBench's eval.py stops with an IndexError).
double retrievalScore(std::string_view prediction, std::string_view groundTruth);

// The share of the prediction's numbers (\d+ runs) whose text equals the ground truth; 0 without
// numbers.
double countScore(std::string_view prediction, std::string_view groundTruth);

// The line of a code prediction that is scored: after leading newlines are stripped, the first
// line containing none of "`", "#" and "//" (so fences and comments are skipped), or "" if none.
std::string codeSimLine(std::string_view prediction);

// fuzz.ratio(codeSimLine(prediction), groundTruth) / 100 (sequence_matcher.h says which ratio).
double codeSimScore(std::string_view prediction, std::string_view groundTruth);

// Why a metric cannot be computed here, or "" if it can.
std::string metricRefusal(LongBenchMetric metric);

// The metric's score; throws KvsError for the refused metrics and for what LongBench's own code
// would stop on (retrievalScore's missing paragraph number).
double metricScore(LongBenchMetric metric, std::string_view prediction,
                   std::string_view groundTruth, const std::vector<std::string>& allClasses);

}  // namespace kvs::eval
