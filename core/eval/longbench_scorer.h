#pragma once
// LongBench's scorer and scorer_e (THUDM/LongBench LongBench/eval.py): a sample scores the best
// of the metric over its ground truths; a task scores 100 x the mean over its samples, rounded to
// two decimals as eval.py rounds (Python's round for scorer, NumPy's for scorer_e, which can
// differ in the last digit).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/longbench_metrics.h"

namespace kvs::eval {

// prediction.lstrip('\n').split('\n')[0]: eval.py scores only this of a prediction for trec,
// triviaqa, samsum and lsht (few-shot tasks whose models go on to write the next example).
std::string firstLine(std::string_view prediction);

// One sample: max(0, metric(prediction, g) for every ground truth g), the prediction cut to its
// first line first when firstLineOnly.
double sampleScore(LongBenchMetric metric, bool firstLineOnly, std::string_view prediction,
                   const std::vector<std::string>& groundTruths,
                   const std::vector<std::string>& allClasses);

// scorer: round(100 * sum / n, 2), the sum taken in order as Python's loop does. Throws
// KvsError for no samples (eval.py divides by zero).
double taskScore(const std::vector<double>& sampleScores);

// scorer_e's buckets by the sample's `length` (LongBench's word count of the context).
struct LengthBucketScores {
  // round(100 * np.mean(bucket), 2); nullopt for an empty bucket (NumPy's nan).
  std::optional<double> upTo4k, from4kTo8k, from8k;  // length < 4000, < 8000, the rest
  int count[3] = {0, 0, 0};
};
LengthBucketScores taskScoreByLength(const std::vector<double>& sampleScores,
                                     const std::vector<long long>& lengths);

// Python's round(x, digits) for a float: the decimal nearest to x's exact binary value, ties to
// even, read back as a double.
double roundLikePython(double x, int digits);

// NumPy's round(x, digits) (np.around): rint(x * 10^digits) / 10^digits.
double roundLikeNumpy(double x, int digits);

// np.add.reduce over a float64 array: 0 plus NumPy's pairwise sum (eight accumulators over
// blocks of at most 128, halves above), which np.mean divides by n. Checked against NumPy 1.24.
double numpySum(const std::vector<double>& values);

}  // namespace kvs::eval
