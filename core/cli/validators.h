#pragma once
// Option validators with messages a user can read (CLI11's numeric ranges print 309-digit bounds).

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

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

}  // namespace kvs::cli
