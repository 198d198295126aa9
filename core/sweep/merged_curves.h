#pragma once
// The curves of a merged Slurm sweep (DIR/merged/results.json of `sweep merge`): the compare
// cells of one settings entry that sweeps one parameter, turned into the SweepCurves that
// `compare --sweep` writes and the app's Sweep view draws (session/sweep_curves.h). The cells'
// measures go through the same summarizeSweep, so the same sweep gives the same numbers however
// it was run. Here rather than in session/: it reads the sweep layer's plan and cell formats.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "session/sweep_curves.h"

namespace kvs::sweep {

// A curve family a merged sweep holds: one model, one settings entry sweeping one parameter.
struct MergedSweepChoice {
  std::string model;      // as the plan writes it
  std::string parameter;  // the swept key, e.g. "budget"
  int entry = 0;          // the plan's settings[entry]
  std::string text;       // the sweep as written, e.g. "budget=0.3:0.7:3"
};

// Whether json is a merged sweep's results (it has "cells", "plan" and "tables").
bool isMergedSweep(const nlohmann::json& json);

// Every (model, settings entry with exactly one sweep) whose compare cells exist, in plan order.
std::vector<MergedSweepChoice> mergedSweepChoices(const nlohmann::json& merged);

// The curves of the first choice whose parameter is `parameter` and model is `model` (either
// empty: any). The full cache's cells (a {"method": "full"} setting) are the reference. KvsError
// naming the fix when: nothing matches (listing what the file holds), the plan has no full-cache
// setting, or a prompt lacks a cell (a --partial merge).
kvs::SweepCurves curvesFromMergedSweep(const nlohmann::json& merged,
                                       const std::string& parameter = "",
                                       const std::string& model = "");

// Either format the Sweep view opens: a merged sweep (curvesFromMergedSweep) or compare's JSON
// (sweepCurvesFromJson).
kvs::SweepCurves sweepCurvesFromAnyJson(const nlohmann::json& json,
                                        const std::string& parameter = "",
                                        const std::string& model = "");

}  // namespace kvs::sweep
