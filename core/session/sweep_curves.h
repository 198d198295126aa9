#pragma once
// Quality against a swept parameter (issue 20): the variants of methods x the values of one
// parameter (compress/param_sweep.h), and their measures summarised per (method, value) over
// prompts. `compare --sweep`, the app's Sweep view and kvstudio-plot all go through this one
// summary and its JSON, so the curves they write and draw are the same numbers.

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/compression_params.h"
#include "compress/param_sweep.h"
#include "session/comparison.h"

namespace kvs {

// What a curve shows, named as compare's JSON names the figures.
enum class SweepMeasure { kMeanKl, kMaxKl, kTop1, kNll, kKvBytes };
inline constexpr int kSweepMeasures = 5;

const std::array<SweepMeasure, kSweepMeasures>& sweepMeasures();
std::string measureKey(SweepMeasure m);    // "mean_kl", "max_kl", "top1_agreement", "nll", ...
std::string measureLabel(SweepMeasure m);  // an axis label: "mean KL (nats)"
// KvsError listing the keys for an unknown one.
SweepMeasure measureNamed(const std::string& key);
double measureOf(const VariantOutcome& outcome, SweepMeasure m);

struct SweepPlan {
  ParamSweep sweep;
  std::vector<std::string> methods;  // the compressing methods, in the order given
  // Method-major: variants[v] is methods[v / points()] at the sweep's value v % points().
  std::vector<CompressionParams> variants;
  size_t points() const { return sweep.values.size(); }
};

// The variants of methods (the full cache, every sweep's reference, is skipped) at each value
// over shared. KvsError when no listed method compresses, or naming a method that does not read
// the swept parameter and the methods that do.
SweepPlan makeSweepPlan(const CompressionParams& shared, const std::vector<std::string>& methods,
                        const ParamSweep& sweep);

struct SweepStats {
  double mean = 0, std = 0, min = 0, max = 0;  // std: population, as the layer-ratio batch's
};
SweepStats statsOf(const std::vector<double>& values);

struct SweepPoint {
  std::string method;                            // "full" for the reference
  nlohmann::json value;                          // the swept value (null for the reference)
  double x = 0;                                  // sweepAxisValue of it
  std::array<SweepStats, kSweepMeasures> stats;  // by SweepMeasure, over prompts
  // Each prompt's value of each measure, [prompt][SweepMeasure]: what the statistics summarise,
  // kept so an export holds every prompt's value and not only the summary.
  std::vector<std::array<double, kSweepMeasures>> perPrompt;
  const SweepStats& of(SweepMeasure m) const { return stats[static_cast<size_t>(m)]; }
};

struct SweepCurves {
  std::string key, label, text;  // the parameter, its label, the sweep as written
  std::vector<nlohmann::json> values;
  int prompts = 0;
  SweepPoint reference;                      // the full cache: one line across the axis
  std::vector<SweepPoint> points;            // in the plan's order (method-major)
  std::vector<std::string> methods() const;  // in the order of their first point
};

// outcomes[prompt] is what compareVariants returned for plan.variants on that prompt (the full
// cache first). KvsError when a prompt's outcomes do not match the plan.
SweepCurves summarizeSweep(const SweepPlan& plan,
                           const std::vector<std::vector<VariantOutcome>>& outcomes);

// The "sweep" object of `compare --json` and what kvstudio-plot and the app read back: the
// parameter, its values, the prompts and every point's mean / std / min / max of each measure,
// and its "per_prompt" values of each measure.
nlohmann::ordered_json sweepJson(const SweepCurves& curves);
// Reads sweepJson's object, or a whole `compare --sweep --json` output holding it; KvsError
// naming what is missing.
SweepCurves sweepCurvesFromJson(const nlohmann::json& json);

}  // namespace kvs
