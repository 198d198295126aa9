#include "eval/longbench_scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace kvs::eval {
namespace {

// NumPy's pairwise summation of values[0, n) (its PW_BLOCKSIZE is 128).
double pairwiseSum(const double* values, size_t n) {
  if (n < 8) {
    double sum = 0.;
    for (size_t i = 0; i < n; ++i) sum += values[i];
    return sum;
  }
  if (n <= 128) {
    double r[8];
    std::copy(values, values + 8, r);
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (size_t k = 0; k < 8; ++k) r[k] += values[i + k];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += values[i];
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return pairwiseSum(values, half) + pairwiseSum(values + half, n - half);
}

std::optional<double> bucketScore(const std::vector<double>& scores) {
  if (scores.empty()) return std::nullopt;
  const double mean = numpySum(scores) / static_cast<double>(scores.size());
  return roundLikeNumpy(100 * mean, 2);
}

}  // namespace

std::string firstLine(std::string_view prediction) {
  const size_t start = prediction.find_first_not_of('\n');
  if (start == std::string_view::npos) return "";
  const std::string_view rest = prediction.substr(start);
  return std::string(rest.substr(0, rest.find('\n')));
}

double sampleScore(LongBenchMetric metric, bool firstLineOnly, std::string_view prediction,
                   const std::vector<std::string>& groundTruths,
                   const std::vector<std::string>& allClasses) {
  const std::string scored = firstLineOnly ? firstLine(prediction) : std::string(prediction);
  double score = 0.;
  for (const std::string& truth : groundTruths) {
    score = std::max(score, metricScore(metric, scored, truth, allClasses));
  }
  return score;
}

double taskScore(const std::vector<double>& sampleScores) {
  require(!sampleScores.empty(), "no samples to score");
  double total = 0.;
  for (const double score : sampleScores) total += score;
  return roundLikePython(100 * total / static_cast<double>(sampleScores.size()), 2);
}

LengthBucketScores taskScoreByLength(const std::vector<double>& sampleScores,
                                     const std::vector<long long>& lengths) {
  require(sampleScores.size() == lengths.size(), "a length for every sample is needed");
  std::vector<double> buckets[3];
  for (size_t i = 0; i < sampleScores.size(); ++i) {
    const int bucket = lengths[i] < 4000 ? 0 : lengths[i] < 8000 ? 1 : 2;
    buckets[bucket].push_back(sampleScores[i]);
  }
  LengthBucketScores out;
  out.upTo4k = bucketScore(buckets[0]);
  out.from4kTo8k = bucketScore(buckets[1]);
  out.from8k = bucketScore(buckets[2]);
  for (int b = 0; b < 3; ++b) out.count[b] = static_cast<int>(buckets[b].size());
  return out;
}

double roundLikePython(double x, int digits) {
  if (!std::isfinite(x)) return x;
  // glibc's printf rounds the exact binary value correctly (ties to even in the default mode),
  // as CPython's round does through its own dtoa.
  char text[400];
  std::snprintf(text, sizeof text, "%.*f", digits, x);
  return std::strtod(text, nullptr);
}

double roundLikeNumpy(double x, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::nearbyint(x * scale) / scale;
}

double numpySum(const std::vector<double>& values) {
  return 0. + pairwiseSum(values.data(), values.size());
}

}  // namespace kvs::eval
