#include "compress/param_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "compress/compression_params.h"
#include "util/error.h"

namespace kvs {
namespace {

std::string number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e18) return std::to_string(static_cast<int64_t>(v));
  std::ostringstream out;
  out << v;
  return out.str();
}

bool inRange(const ParamSpec& s, double v) {
  if (!std::isfinite(v)) return false;
  return (s.loOpen ? v > s.lo : v >= s.lo) && v <= s.hi;
}

bool whole(double v) {
  return std::isfinite(v) && v == std::floor(v);
}

// Decimal digits only: strtoull would take "-1" as 2^64 - 1.
bool parseSeed(const std::string& text, uint64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  value = 0;
  for (char c : text) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (c < '0' || c > '9' || value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  return true;
}

}  // namespace

std::string ParamSpec::rangeText() const {
  const bool unbounded = hi >= std::numeric_limits<double>::max();
  switch (kind) {
    case ParamKind::kReal:
      if (unbounded) return std::string("must be ") + (loOpen ? "> " : ">= ") + number(lo);
      return "must be in " + std::string(loOpen ? "(" : "[") + number(lo) + ", " + number(hi) + "]";
    case ParamKind::kWhole:
    case ParamKind::kWholeList:
      return "must be a whole number in [" + number(lo) + ", " + number(hi) + "]";
    case ParamKind::kSwitch:
      return "must be true or false";
    case ParamKind::kSeed:
      return "must be a whole number in [0, 18446744073709551615]";
    case ParamKind::kChoice: {
      std::string text = "must be one of: ";
      for (size_t i = 0; i < choices.size(); ++i) text += (i ? ", " : "") + choices[i];
      return text;
    }
  }
  return "?";
}

bool ParamSpec::accepts(const nlohmann::json& v) const {
  switch (kind) {
    case ParamKind::kReal:
      return v.is_number() &&
             ((unsetBelowLo && v.get<double>() < lo) || inRange(*this, v.get<double>()));
    case ParamKind::kWhole:
      return v.is_number() && whole(v.get<double>()) &&
             ((unsetBelowLo && v.get<double>() < lo) || inRange(*this, v.get<double>()));
    case ParamKind::kSwitch:
      return v.is_boolean();
    case ParamKind::kSeed:
      return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
    case ParamKind::kChoice:
      return v.is_string() &&
             std::find(choices.begin(), choices.end(), v.get<std::string>()) != choices.end();
    case ParamKind::kWholeList:
      if (!v.is_array()) return false;
      for (const auto& e : v) {
        if (!e.is_number() || !whole(e.get<double>()) || !inRange(*this, e.get<double>())) {
          return false;
        }
      }
      return true;
  }
  return false;
}

std::string ParamSpec::problemWith(const std::string& text) const {
  try {
    parse(text);
    return {};
  } catch (const KvsError&) {
    return rangeText() + ", got '" + text + "'";
  }
}

nlohmann::json ParamSpec::parse(const std::string& text) const {
  const auto fail = [&] {
    throw KvsError("--" + flag + ": " + rangeText() + ", got '" + text + "'");
  };
  nlohmann::json value;
  switch (kind) {
    case ParamKind::kReal:
    case ParamKind::kWhole: {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') fail();
      value =
          kind == ParamKind::kWhole ? nlohmann::json(static_cast<int64_t>(v)) : nlohmann::json(v);
      if (kind == ParamKind::kWhole && !whole(v)) fail();
      // Typed, a negative would silently mean the method's default.
      if (!inRange(*this, v)) fail();
      return value;
    }
    case ParamKind::kSwitch:
      if (text != "true" && text != "false") fail();
      return text == "true";
    case ParamKind::kSeed: {
      uint64_t seed = 0;
      if (!parseSeed(text, seed)) fail();
      return seed;
    }
    case ParamKind::kChoice:
      value = text;
      break;
    case ParamKind::kWholeList: {
      value = nlohmann::json::array();
      std::stringstream in(text);
      for (std::string item; std::getline(in, item, ',');) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || *end != '\0' || !whole(v) || !inRange(*this, v)) fail();
        value.push_back(static_cast<int64_t>(v));
      }
      return value;
    }
  }
  if (!accepts(value)) fail();
  return value;
}

ParamSpec realParam(std::string flag, std::string key, std::string label, std::string help,
                    double lo, double hi, double CompressionParams::*field, bool loOpen) {
  ParamSpec s{
      std::move(flag), std::move(key), std::move(label), std::move(help), ParamKind::kReal, lo, hi,
      loOpen};
  s.get = [field](const CompressionParams& p) { return nlohmann::json(p.*field); };
  s.set = [field](CompressionParams& p, const nlohmann::json& v) { p.*field = v.get<double>(); };
  return s;
}

ParamSpec wholeParam(std::string flag, std::string key, std::string label, std::string help, int lo,
                     int hi, int CompressionParams::*field) {
  ParamSpec s{std::move(flag),   std::move(key), std::move(label), std::move(help),
              ParamKind::kWhole, double(lo),     double(hi)};
  s.get = [field](const CompressionParams& p) { return nlohmann::json(p.*field); };
  s.set = [field](CompressionParams& p, const nlohmann::json& v) { p.*field = v.get<int>(); };
  return s;
}

ParamSpec switchParam(std::string flag, std::string key, std::string label, std::string help,
                      bool CompressionParams::*field, bool switchValue) {
  ParamSpec s{std::move(flag), std::move(key), std::move(label), std::move(help),
              ParamKind::kSwitch};
  s.switchValue = switchValue;
  s.get = [field](const CompressionParams& p) { return nlohmann::json(p.*field); };
  s.set = [field](CompressionParams& p, const nlohmann::json& v) { p.*field = v.get<bool>(); };
  return s;
}

ParamSpec wholeListParam(std::string flag, std::string key, std::string label, std::string help,
                         int lo, int hi, std::vector<int> CompressionParams::*field) {
  ParamSpec s{std::move(flag),       std::move(key), std::move(label), std::move(help),
              ParamKind::kWholeList, double(lo),     double(hi)};
  s.get = [field](const CompressionParams& p) { return nlohmann::json(p.*field); };
  s.set = [field](CompressionParams& p, const nlohmann::json& v) {
    p.*field = v.get<std::vector<int>>();
  };
  return s;
}

namespace {

// A parameter kept in CompressionParams::options under its key, defaultValue until set.
ParamSpec ownParam(ParamSpec s, nlohmann::json defaultValue) {
  const std::string key = s.key;
  s.get = [key, defaultValue](const CompressionParams& p) {
    return p.options.contains(key) ? p.options.at(key) : defaultValue;
  };
  s.set = [key](CompressionParams& p, const nlohmann::json& v) { p.options[key] = v; };
  return s;
}

}  // namespace

ParamSpec ownRealParam(std::string flag, std::string key, std::string label, std::string help,
                       double lo, double hi, double defaultValue) {
  return ownParam({std::move(flag), std::move(key), std::move(label), std::move(help),
                   ParamKind::kReal, lo, hi},
                  defaultValue);
}

ParamSpec ownWholeParam(std::string flag, std::string key, std::string label, std::string help,
                        int lo, int hi, int defaultValue) {
  return ownParam({std::move(flag), std::move(key), std::move(label), std::move(help),
                   ParamKind::kWhole, double(lo), double(hi)},
                  defaultValue);
}

ParamSpec ownChoiceParam(std::string flag, std::string key, std::string label, std::string help,
                         std::vector<std::string> choices, std::string defaultValue) {
  ParamSpec s{std::move(flag), std::move(key), std::move(label), std::move(help),
              ParamKind::kChoice};
  s.choices = std::move(choices);
  return ownParam(std::move(s), defaultValue);
}

}  // namespace kvs
