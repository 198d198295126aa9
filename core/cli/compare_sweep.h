#pragma once
// compare --sweep NAME=FROM:TO:POINTS (or NAME=V1,V2,...) and --plot FILE.pdf|svg|png: the
// variants are --methods x the swept values (session/sweep_curves.h), the table a summary per
// (method, value) over the prompts, and the figure is drawn by kvstudio-plot, the headless tool
// built with the app beside kvstudio-cli (core has no Qt; the plot uses the app's ui/ code, so
// the CLI's figure is the app's).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "session/sweep_curves.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace kvs {
class LlamaModel;
}

namespace kvs::cli {

struct CompressionOptions;

struct SweepCliOptions {
  std::string sweep;  // empty: no sweep (the --methods x --budgets grid)
  std::string plot;   // the figure; empty: none
  std::string plotMeasure = "mean_kl";
  std::string plotSize = "3.5x2.6";            // inches, WxH: a one-column figure
  bool plotLog = false;                        // a logarithmic y axis
  bool plotBand = false;                       // a min-max band instead of +-std error bars
  const CLI::Option* budgetsOption = nullptr;  // --budgets, refused beside --sweep

  bool enabled() const { return !sweep.empty(); }
};

void addSweepOptions(CLI::App& app, SweepCliOptions& o);

// The plan of --sweep over the shared flags (nullopt without --sweep). KvsError for --method,
// --budgets, the swept parameter also given as its flag (or --budget-tokens beside a budget
// sweep), --plot without --sweep, or a method that does not read the swept parameter.
std::optional<SweepPlan> sweepPlanOf(const SweepCliOptions& o, const CompressionOptions& flags,
                                     const std::vector<std::string>& methods,
                                     const LlamaModel& model);

// Before any work: the figure's format, its files (figure, .csv and .json beside it) and the
// plot tool; KvsError naming the fix.
void checkPlotOutput(const SweepCliOptions& o, bool force, const std::vector<std::string>& inputs);

// The summary table (mean +- std over the prompts, min and max of mean KL).
void printSweepTable(const SweepCurves& curves);

// Runs kvstudio-plot on compare's JSON (its "sweep" object) to write o.plot; KvsError when it
// fails.
void writeSweepPlot(const SweepCliOptions& o, const nlohmann::ordered_json& compareJson);

// kvstudio-plot beside the running kvstudio-cli ($KVS_PLOT_TOOL overrides it); KvsError naming
// how to build it when it is not there.
std::string plotToolPath();

}  // namespace kvs::cli
