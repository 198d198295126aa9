#pragma once
// Option validators with messages a user can read (CLI11's numeric ranges print 309-digit bounds).

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "util/error.h"

namespace kvs::cli {

// value must parse as a number for which accept() holds; otherwise "<what>, got <value>".
template <typename T, typename Accept>
CLI::Validator numberWhere(Accept accept, const std::string& what) {
  return CLI::Validator(
      [accept, what](std::string& text) -> std::string {
        T value{};
        if (!CLI::detail::lexical_cast(text, value) || !accept(value)) {
          return what + ", got '" + text + "'";
        }
        return {};
      },
      "", "");
}

inline CLI::Validator positiveWhole() {
  return numberWhere<long long>([](long long v) { return v > 0; }, "must be a whole number > 0");
}
inline CLI::Validator nonNegativeWhole() {
  return numberWhere<long long>([](long long v) { return v >= 0; }, "must be a whole number >= 0");
}
inline CLI::Validator nonNegativeFinite() {
  return numberWhere<double>([](double v) { return std::isfinite(v) && v >= 0; },
                             "must be a finite number >= 0");
}
inline CLI::Validator unitIntervalOpenBelow() {
  return numberWhere<double>([](double v) { return v > 0 && v <= 1; }, "must be in (0, 1]");
}
// For fractions whose default is a negative "not given" value: a negative typed by the user
// would silently mean the default.
inline CLI::Validator unitIntervalClosed() {
  return numberWhere<double>([](double v) { return v >= 0 && v <= 1; }, "must be in [0, 1]");
}

// Decimal digits only, in [lo, hi]. CLI11 wraps "-1" into an unsigned option as 2^64 - 1 and
// clamps numbers beyond a type's range, so a seed is checked on its text.
inline CLI::Validator wholeNumberIn(uint64_t lo, uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        uint64_t value = 0;
        bool ok = !text.empty() && text.size() <= 20;
        for (char c : text) {
          const auto digit = static_cast<uint64_t>(c - '0');
          if (c < '0' || c > '9' || value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
            ok = false;
            break;
          }
          value = value * 10 + digit;
        }
        if (ok && value >= lo && value <= hi) return {};
        return "must be a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
               "], got '" + text + "'";
      },
      "", "");
}
inline CLI::Validator seedNumber() {
  return wholeNumberIn(0, std::numeric_limits<uint64_t>::max());
}

// An empty path would otherwise read as "not given" (a default taken in silence) or as a file
// named "".
inline CLI::Validator nonEmptyPath() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return text.empty() ? "the path is empty; name a file" : "";
      },
      "", "");
}

// --decode-chunk counts slots a head may grow by before it is compressed again; the cache never
// holds more than the model's context, and the cache's capacity must be able to hold the chunk.
inline void requireDecodeChunkBelowContext(int decodeChunk, int context) {
  require(decodeChunk < context,
          "--decode-chunk " + std::to_string(decodeChunk) +
              " is not below the model's context of " + std::to_string(context) +
              " positions; give a chunk from 1 to " + std::to_string(context - 1));
}

}  // namespace kvs::cli
