#pragma once
// ParamSpec: one compression parameter described once — its flag, its key in JSON, recordings and
// settings, its label, help, kind, range and default, and how to read and write it in a
// CompressionParams. The CLI flags, the Parameters panel, the JSON/HDF5 parameter records and the
// README's method table are all made from these (see compression_method.h for who reads which).

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvs {

struct CompressionParams;

enum class ParamKind {
  kReal,       // a number in [lo, hi] (loOpen: (lo, hi])
  kWhole,      // an integer in [lo, hi]
  kSwitch,     // on or off; the flag sets switchValue (false for a "--no-..." flag)
  kChoice,     // one of choices
  kWholeList,  // comma-separated integers, each in [lo, hi]
  kSeed,       // an unsigned 64-bit integer
};

struct ParamSpec {
  ParamSpec() = default;
  ParamSpec(std::string flag, std::string key, std::string label, std::string help, ParamKind kind,
            double lo = 0, double hi = 0, bool loOpen = false)
      : flag(std::move(flag)),
        key(std::move(key)),
        label(std::move(label)),
        help(std::move(help)),
        kind(kind),
        lo(lo),
        hi(hi),
        loOpen(loOpen) {}

  std::string flag;   // the CLI flag without dashes: "eps", "cam-base", "no-value-scaling"
  std::string key;    // the name in JSON, recordings and settings: "eps", "scale_values"
  std::string label;  // the Parameters panel's label
  std::string help;
  ParamKind kind = ParamKind::kReal;
  double lo = 0, hi = 0;
  bool loOpen = false;
  // kReal / kWhole: a value below lo means "unset" (the method's default, or the ratio for
  // budget_tokens 0), shown as such in the panel; a user cannot type one.
  bool unsetBelowLo = false;
  std::string unsetLabel = "paper default";
  std::vector<std::string> choices;
  bool switchValue = true;
  std::function<nlohmann::json(const CompressionParams&)> get;
  std::function<void(CompressionParams&, const nlohmann::json&)> set;

  // "must be in [0, 1]", "must be > 0", "must be a whole number in [1, 4096]", ...
  std::string rangeText() const;
  // Whether a value (as get() returns it) is allowed.
  bool accepts(const nlohmann::json& value) const;
  // What is wrong with a user's text ("must be in [0, 1], got '2'"); empty when it is a value.
  std::string problemWith(const std::string& text) const;
  // A user's text as a value (kSwitch: "true"/"false"); KvsError "--flag: must ..., got 'text'".
  nlohmann::json parse(const std::string& text) const;
};

// Specs bound to a typed field of CompressionParams (the parameters every method shares and those
// of the methods written before the registry).
ParamSpec realParam(std::string flag, std::string key, std::string label, std::string help,
                    double lo, double hi, double CompressionParams::*field, bool loOpen = false);
ParamSpec wholeParam(std::string flag, std::string key, std::string label, std::string help, int lo,
                     int hi, int CompressionParams::*field);
ParamSpec switchParam(std::string flag, std::string key, std::string label, std::string help,
                      bool CompressionParams::*field, bool switchValue = true);
ParamSpec wholeListParam(std::string flag, std::string key, std::string label, std::string help,
                         int lo, int hi, std::vector<int> CompressionParams::*field);

// An enum field whose values follow the order of choices.
template <typename E>
ParamSpec choiceParam(std::string flag, std::string key, std::string label, std::string help,
                      std::vector<std::string> choices, E CompressionParams::*field) {
  ParamSpec s{std::move(flag), std::move(key), std::move(label), std::move(help),
              ParamKind::kChoice};
  s.choices = std::move(choices);
  const auto names = s.choices;
  s.get = [field, names](const CompressionParams& p) {
    return nlohmann::json(names.at(static_cast<size_t>(p.*field)));
  };
  s.set = [field, names](CompressionParams& p, const nlohmann::json& v) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == v.get<std::string>()) p.*field = static_cast<E>(i);
    }
  };
  return s;
}

// Specs of a method's own parameters, stored by key in CompressionParams::options (so a new method
// needs no new field): the default is used until the value is set.
ParamSpec ownRealParam(std::string flag, std::string key, std::string label, std::string help,
                       double lo, double hi, double defaultValue);
ParamSpec ownWholeParam(std::string flag, std::string key, std::string label, std::string help,
                        int lo, int hi, int defaultValue);
ParamSpec ownChoiceParam(std::string flag, std::string key, std::string label, std::string help,
                         std::vector<std::string> choices, std::string defaultValue);

}  // namespace kvs
