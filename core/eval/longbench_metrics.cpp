#include "eval/longbench_metrics.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "eval/python_text.h"
#include "eval/rouge_l.h"
#include "eval/sequence_matcher.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

constexpr std::array<std::pair<LongBenchMetric, const char*>, 9> kMetricNames = {{
    {LongBenchMetric::kQaF1, "qa_f1_score"},
    {LongBenchMetric::kQaF1Zh, "qa_f1_zh_score"},
    {LongBenchMetric::kRougeZh, "rouge_zh_score"},
    {LongBenchMetric::kRouge, "rouge_score"},
    {LongBenchMetric::kClassification, "classification_score"},
    {LongBenchMetric::kRetrieval, "retrieval_score"},
    {LongBenchMetric::kCount, "count_score"},
    {LongBenchMetric::kRetrievalZh, "retrieval_zh_score"},
    {LongBenchMetric::kCodeSim, "code_sim_score"},
}};

// Python's string.punctuation.
bool isAsciiPunctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// re.sub(r"\b(a|an|the)\b", " ", text): a match starts after a non-word character (or the start)
// and ends before one (or the end), so it is exactly a maximal run of word characters that
// spells one of the three articles.
std::u32string removeArticles(const std::u32string& text) {
  std::u32string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!isPythonWordChar(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    const size_t start = i;
    while (i < text.size() && isPythonWordChar(text[i])) ++i;
    const std::u32string_view word(text.data() + start, i - start);
    if (word == U"a" || word == U"an" || word == U"the") {
      out.push_back(U' ');
    } else {
      out.append(word);
    }
  }
  return out;
}

std::vector<std::u32string> normalizedWords(std::string_view text) {
  std::u32string kept;
  for (const char32_t c : pythonLower(decodeUtf8(text))) {
    if (!isAsciiPunctuation(c)) kept.push_back(c);
  }
  return pythonSplit(removeArticles(kept));
}

// re.findall(r"\d+", text): the runs of decimal digits, as UTF-8 text.
std::vector<std::string> numbersIn(std::string_view text) {
  const std::u32string points = decodeUtf8(text);
  std::vector<std::string> numbers;
  for (size_t i = 0; i < points.size();) {
    if (!isPythonDecimal(points[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < points.size() && isPythonDecimal(points[i])) ++i;
    numbers.push_back(encodeUtf8(std::u32string_view(points).substr(start, i - start)));
  }
  return numbers;
}

// right_num / len(numbers), 0.0 without numbers.
double shareEqualTo(const std::vector<std::string>& numbers, std::string_view wanted) {
  if (numbers.empty()) return 0.0;
  const auto right = std::count(numbers.begin(), numbers.end(), wanted);
  return static_cast<double>(right) / static_cast<double>(numbers.size());
}

// re.findall(r"Paragraph (\d+)", text)[0], or nullopt when there is no match.
std::optional<std::string> paragraphNumber(std::string_view text) {
  const std::u32string points = decodeUtf8(text);
  const std::u32string_view marker = U"Paragraph ";
  for (size_t at = points.find(marker); at != std::u32string::npos;
       at = points.find(marker, at + 1)) {
    size_t end = at + marker.size();
    while (end < points.size() && isPythonDecimal(points[end])) ++end;
    if (end > at + marker.size()) {
      const size_t start = at + marker.size();
      return encodeUtf8(std::u32string_view(points).substr(start, end - start));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string metricName(LongBenchMetric metric) {
  for (const auto& [m, name] : kMetricNames) {
    if (m == metric) return name;
  }
  return "?";
}

std::optional<LongBenchMetric> metricFromName(std::string_view name) {
  for (const auto& [m, n] : kMetricNames) {
    if (name == n) return m;
  }
  return std::nullopt;
}

std::string normalizeAnswer(std::string_view text) {
  return encodeUtf8(join(normalizedWords(text), U" "));
}

double qaF1Score(std::string_view prediction, std::string_view groundTruth) {
  const std::vector<std::u32string> predicted = normalizedWords(prediction);
  const std::vector<std::u32string> truth = normalizedWords(groundTruth);
  std::map<std::u32string, int> truthCounts;
  for (const std::u32string& word : truth) ++truthCounts[word];
  // sum((Counter(predicted) & Counter(truth)).values()): each word counts min(times in each).
  int same = 0;
  for (const std::u32string& word : predicted) {
    const auto left = truthCounts.find(word);
    if (left != truthCounts.end() && left->second > 0) {
      --left->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = 1.0 * same / static_cast<double>(predicted.size());
  const double recall = 1.0 * same / static_cast<double>(truth.size());
  return (2 * precision * recall) / (precision + recall);
}

double rougeScore(std::string_view prediction, std::string_view groundTruth) {
  const RougeLOutcome outcome = rougeLSummaryLevel(prediction, groundTruth);
  return outcome.score ? outcome.score->f : 0.0;
}

double classificationScore(std::string_view prediction, std::string_view groundTruth,
                           const std::vector<std::string>& allClasses) {
  std::vector<std::string> matched;
  for (const std::string& name : allClasses) {
    if (prediction.find(name) != std::string_view::npos) matched.push_back(name);
  }
  // for term in list: if ...: list.remove(term). Python's list iterator keeps its index, so after
  // a removal the next element has moved into the visited slot and is never looked at.
  for (size_t next = 0; next < matched.size();) {
    const std::string term = matched[next++];
    if (groundTruth.find(term) != std::string_view::npos && term != groundTruth) {
      // list.remove drops the first equal element; `next` stays, as the iterator's index does.
      matched.erase(std::find(matched.begin(), matched.end(), term));
    }
  }
  if (std::find(matched.begin(), matched.end(), groundTruth) == matched.end()) return 0.0;
  return 1.0 / static_cast<double>(matched.size());
}

double retrievalScore(std::string_view prediction, std::string_view groundTruth) {
  const std::optional<std::string> id = paragraphNumber(groundTruth);
  require(id.has_value(), "the answer \"" + std::string(groundTruth.substr(0, 80)) +
                              "\" has no \"Paragraph N\", which retrieval_score reads the right "
                              "paragraph from (LongBench's answers look like \"Paragraph 12\")");
  return shareEqualTo(numbersIn(prediction), *id);
}

double countScore(std::string_view prediction, std::string_view groundTruth) {
  return shareEqualTo(numbersIn(prediction), groundTruth);
}

std::string codeSimLine(std::string_view prediction) {
  const size_t start = prediction.find_first_not_of('\n');
  if (start == std::string_view::npos) return "";
  std::string_view rest = prediction.substr(start);
  while (true) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    if (line.find('`') == std::string_view::npos && line.find('#') == std::string_view::npos &&
        line.find("//") == std::string_view::npos) {
      return std::string(line);
    }
    if (end == std::string_view::npos) return "";
    rest = rest.substr(end + 1);
  }
}

double codeSimScore(std::string_view prediction, std::string_view groundTruth) {
  return fuzzRatio(codeSimLine(prediction), groundTruth) / 100.0;
}

std::string metricRefusal(LongBenchMetric metric) {
  switch (metric) {
    case LongBenchMetric::kQaF1Zh:
    case LongBenchMetric::kRougeZh:
      return metricName(metric) +
             " segments Chinese text into words with jieba, which KV Studio does not have";
    case LongBenchMetric::kRetrievalZh:
      return metricName(metric) + " belongs to a Chinese task, and those are left out for now";
    default:
      return "";
  }
}

double metricScore(LongBenchMetric metric, std::string_view prediction,
                   std::string_view groundTruth, const std::vector<std::string>& allClasses) {
  switch (metric) {
    case LongBenchMetric::kQaF1:
      return qaF1Score(prediction, groundTruth);
    case LongBenchMetric::kRouge:
      return rougeScore(prediction, groundTruth);
    case LongBenchMetric::kClassification:
      return classificationScore(prediction, groundTruth, allClasses);
    case LongBenchMetric::kRetrieval:
      return retrievalScore(prediction, groundTruth);
    case LongBenchMetric::kCount:
      return countScore(prediction, groundTruth);
    case LongBenchMetric::kCodeSim:
      return codeSimScore(prediction, groundTruth);
    default:
      throw KvsError(metricName(metric) + " is not implemented: " + metricRefusal(metric));
  }
}

}  // namespace kvs::eval
