#include "eval/sequence_matcher.h"

#include <cmath>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "eval/python_text.h"

namespace kvs::eval {
namespace {

struct Match {
  size_t a = 0, b = 0, size = 0;
};

// difflib's b2j: where each element of b occurs, ascending, less the popular elements.
class SequenceMatcher {
 public:
  SequenceMatcher(std::u32string_view a, std::u32string_view b) : a_(a), b_(b) {
    for (size_t j = 0; j < b.size(); ++j) positions_[b[j]].push_back(j);
    if (b.size() >= 200) {  // autojunk
      const size_t mostOccurrences = b.size() / 100 + 1;
      for (auto it = positions_.begin(); it != positions_.end();) {
        it = it->second.size() > mostOccurrences ? positions_.erase(it) : std::next(it);
      }
    }
  }

  // find_longest_match: the longest block a[i..i+k) == b[j..j+k) within the bounds that starts
  // with a non-popular element, the earliest in a and then in b among equals, then extended
  // over equal neighbours (popular ones too; with no junk function nothing else is junk).
  Match longestMatch(size_t alo, size_t ahi, size_t blo, size_t bhi) const {
    Match best{alo, blo, 0};
    // lengthEndingAt[j]: the length of the match ending at a[i-1], b[j] (difflib's j2len).
    std::unordered_map<size_t, size_t> lengthEndingAt, next;
    for (size_t i = alo; i < ahi; ++i) {
      next.clear();
      const auto found = positions_.find(a_[i]);
      if (found != positions_.end()) {
        for (const size_t j : found->second) {
          if (j < blo) continue;
          if (j >= bhi) break;
          const auto previous = j > 0 ? lengthEndingAt.find(j - 1) : lengthEndingAt.end();
          const size_t k = (previous == lengthEndingAt.end() ? 0 : previous->second) + 1;
          next[j] = k;
          if (k > best.size) best = {i + 1 - k, j + 1 - k, k};
        }
      }
      std::swap(lengthEndingAt, next);
    }
    while (best.a > alo && best.b > blo && a_[best.a - 1] == b_[best.b - 1]) {
      --best.a;
      --best.b;
      ++best.size;
    }
    while (best.a + best.size < ahi && best.b + best.size < bhi &&
           a_[best.a + best.size] == b_[best.b + best.size]) {
      ++best.size;
    }
    return best;
  }

  // The total size of get_matching_blocks(): the longest match, then recursively the parts to
  // its left and to its right (the order they are visited in does not change the sum).
  size_t matchedElements() const {
    size_t matched = 0;
    std::vector<std::tuple<size_t, size_t, size_t, size_t>> queue = {{0, a_.size(), 0, b_.size()}};
    while (!queue.empty()) {
      const auto [alo, ahi, blo, bhi] = queue.back();
      queue.pop_back();
      const Match m = longestMatch(alo, ahi, blo, bhi);
      if (m.size == 0) continue;
      matched += m.size;
      if (alo < m.a && blo < m.b) queue.emplace_back(alo, m.a, blo, m.b);
      if (m.a + m.size < ahi && m.b + m.size < bhi) {
        queue.emplace_back(m.a + m.size, ahi, m.b + m.size, bhi);
      }
    }
    return matched;
  }

 private:
  std::u32string_view a_, b_;
  std::unordered_map<char32_t, std::vector<size_t>> positions_;
};

}  // namespace

double sequenceMatcherRatio(std::u32string_view a, std::u32string_view b) {
  const size_t length = a.size() + b.size();
  if (length == 0) return 1.0;
  const size_t matched = SequenceMatcher(a, b).matchedElements();
  return 2.0 * static_cast<double>(matched) / static_cast<double>(length);
}

int fuzzRatio(std::string_view s1, std::string_view s2) {
  if (s1 == s2) return 100;
  if (s1.empty() || s2.empty()) return 0;
  // Python's round() of a float rounds half to even, as nearbyint does in the default mode.
  return static_cast<int>(
      std::nearbyint(100 * sequenceMatcherRatio(decodeUtf8(s1), decodeUtf8(s2))));
}

}  // namespace kvs::eval
