#pragma once
// The "fuzzy ratio" of LongBench's code edit similarity (lcc, repobench-p): fuzzywuzzy's
// fuzz.ratio as LongBench's environment runs it.
//
// Which ratio: fuzzywuzzy uses python-Levenshtein's StringMatcher when that package is
// installed and otherwise falls back to the standard library's difflib.SequenceMatcher (with a
// warning). LongBench's requirements.txt (THUDM/LongBench, LongBench/requirements.txt, unchanged
// since its first version of 2023-08-02) lists `fuzzywuzzy` alone, neither python-Levenshtein nor
// the `fuzzywuzzy[speedup]` extra, so an environment set up from it, the one its published
// numbers come from, computes difflib's ratio. That is the one implemented here, with difflib's
// defaults: no junk function and autojunk on (in a second string of 200 or more code points,
// every element occurring more than 1% + 1 times is "popular" and cannot start a match, though it
// can extend one). The two ratios differ (Levenshtein's counts an edit distance, difflib's
// greedy longest blocks), so scores computed with python-Levenshtein installed may differ in the
// last digits.

#include <string_view>

namespace kvs::eval {

// difflib.SequenceMatcher(None, a, b).ratio(): 2 * matched / (len(a) + len(b)), where matched
// sums the blocks that get_matching_blocks finds (the longest match, then the same on either
// side of it); 1.0 for two empty sequences.
double sequenceMatcherRatio(std::u32string_view a, std::u32string_view b);

// fuzzywuzzy 0.18's fuzz.ratio(s1, s2) on UTF-8 text: 100 for equal strings, 0 when either is
// empty, else round(100 * ratio) to an integer with Python 3's round (half to even).
int fuzzRatio(std::string_view s1, std::string_view s2);

}  // namespace kvs::eval
