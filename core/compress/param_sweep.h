#pragma once
// One compression parameter swept over values, as `compare --sweep`, the app's Sweep view and a
// sweep plan's grids write it: "budget=0.1:0.9:9" (9 evenly spaced values, both ends included),
// "sigma=1,2,3.5,5" (a list), "recent=0.05" (one value). The name is a parameter's key or flag
// (compression_method.h: allParams), so a new method's parameters sweep without a change here.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/compression_params.h"

namespace kvs {

struct ParamSpec;

struct ParamSweep {
  std::string key;                     // the parameter's key, e.g. "budget", "sigma"
  std::vector<nlohmann::json> values;  // in the order given (a range: ascending or descending)
  const ParamSpec* spec = nullptr;     // its spec, for labels and ranges
  std::string text;                    // as the user wrote it, for messages and sidecars
};

// Parses one sweep; KvsError naming the text, the problem and the fix: unknown parameter (listing
// what can be swept), a value outside the parameter's range, a range of fewer than 2 points or
// more than 1000, a switch or choice given as a range, a value given twice.
ParamSweep parseParamSweep(const std::string& text);

// base with the sweep's value i set (for "budget" also budget_tokens cleared, so the ratio is
// what applies). KvsError when the value does not apply to base's method (e.g. sigma for h2o).
CompressionParams withSweepValue(const CompressionParams& base, const ParamSweep& sweep, size_t i);

// The value as a number for a plot's x axis (a switch: 0/1; a choice: its index).
double sweepAxisValue(const ParamSweep& sweep, size_t i);

}  // namespace kvs
