#include "compress/param_sweep.h"

#include <cmath>
#include <sstream>

#include "compress/compression_method.h"
#include "compress/param_spec.h"
#include "util/error.h"

namespace kvs {
namespace {

constexpr int kMaxPoints = 1000;

std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, by);) parts.push_back(part);
  if (!text.empty() && text.back() == by) parts.push_back("");
  return parts;
}

std::string sweepable() {
  std::string names;
  for (const ParamSpec& s : allParams()) {
    if (s.kind == ParamKind::kWholeList || s.kind == ParamKind::kSeed) continue;
    names += (names.empty() ? "" : ", ") + s.key;
  }
  return names;
}

const ParamSpec& specNamed(const std::string& name, const std::string& text) {
  for (const ParamSpec& s : allParams()) {
    if (s.key == name || s.flag == name) {
      require(s.kind != ParamKind::kWholeList && s.kind != ParamKind::kSeed,
              "--sweep " + text + ": " + s.key + " cannot be swept; sweep one of: " + sweepable());
      return s;
    }
  }
  throw KvsError("--sweep " + text + ": no parameter '" + name + "'; sweep one of: " + sweepable());
}

double number(const std::string& text, const std::string& sweep, const char* what) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used > 0 && used == text.size() && std::isfinite(value),
          "--sweep " + sweep + ": the " + what + " '" + text + "' is not a number");
  return value;
}

// A range's point, rounded to 9 decimals so 0.1:0.9:9 gives 0.3, not 0.30000000000000004.
double point(double from, double to, int i, int n) {
  const double x = from + (to - from) * i / (n - 1);
  return std::round(x * 1e9) / 1e9;
}

}  // namespace

ParamSweep parseParamSweep(const std::string& text) {
  const size_t eq = text.find('=');
  require(eq != std::string::npos && eq > 0 && eq + 1 < text.size(),
          "--sweep '" + text + "': write NAME=FROM:TO:POINTS or NAME=V1,V2,..., e.g. " +
              "budget=0.1:0.9:9 or sigma=1,2,5");
  ParamSweep sweep;
  sweep.text = text;
  const ParamSpec& spec = specNamed(text.substr(0, eq), text);
  sweep.spec = &spec;
  sweep.key = spec.key;
  const std::string values = text.substr(eq + 1);
  if (values.find(':') != std::string::npos) {
    const std::vector<std::string> parts = split(values, ':');
    require(parts.size() == 3, "--sweep " + text + ": a range is FROM:TO:POINTS, e.g. 0.1:0.9:9");
    require(spec.kind == ParamKind::kReal || spec.kind == ParamKind::kWhole,
            "--sweep " + text + ": " + spec.key + " is not a number; list its values instead");
    const double from = number(parts[0], text, "start");
    const double to = number(parts[1], text, "end");
    const double points = number(parts[2], text, "number of points");
    require(points == std::floor(points) && points >= 2 && points <= kMaxPoints,
            "--sweep " + text + ": the number of points must be a whole number from 2 to " +
                std::to_string(kMaxPoints));
    const int n = static_cast<int>(points);
    for (int i = 0; i < n; ++i) {
      const double x = point(from, to, i, n);
      if (spec.kind == ParamKind::kWhole) {
        require(x == std::floor(x), "--sweep " + text + ": point " + std::to_string(i + 1) +
                                        " is " + std::to_string(x) + ", not a whole number; " +
                                        "choose POINTS so the step is whole");
        sweep.values.push_back(static_cast<int64_t>(x));
      } else {
        sweep.values.push_back(x);
      }
    }
  } else {
    for (const std::string& one : split(values, ',')) {
      require(!one.empty(), "--sweep " + text + ": an empty value; write V1,V2,...");
      try {
        sweep.values.push_back(spec.parse(one));
      } catch (const KvsError& e) {
        throw KvsError("--sweep " + text + ": " + e.what());
      }
    }
  }
  for (size_t i = 0; i < sweep.values.size(); ++i) {
    require(spec.accepts(sweep.values[i]), "--sweep " + text + ": " + sweep.values[i].dump() +
                                               " is outside " + spec.key + "'s range; it " +
                                               spec.rangeText());
    for (size_t j = 0; j < i; ++j) {
      require(sweep.values[j] != sweep.values[i],
              "--sweep " + text + ": " + sweep.values[i].dump() + " is given twice");
    }
  }
  return sweep;
}

CompressionParams withSweepValue(const CompressionParams& base, const ParamSweep& sweep, size_t i) {
  CompressionParams p = base;
  if (sweep.key == "budget") p.budgetTokens = 0;  // the ratio swept is the one that applies
  sweep.spec->set(p, sweep.values.at(i));
  const auto ignored = methodNamed(p.method).ignores(sweep.key, p);
  require(!ignored, "--sweep " + sweep.text + " has no effect " + ignored.value_or("") +
                        "; sweep it for the methods that read it (" + methodsReading(sweep.key) +
                        ")");
  return p;
}

double sweepAxisValue(const ParamSweep& sweep, size_t i) {
  const nlohmann::json& v = sweep.values.at(i);
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  for (size_t c = 0; c < sweep.spec->choices.size(); ++c) {
    if (v == sweep.spec->choices[c]) return static_cast<double>(c);
  }
  return 0;
}

}  // namespace kvs
