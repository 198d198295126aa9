#include "cli/compare_sweep.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/compression_options.h"
#include "compress/compression_method.h"
#include "compress/param_spec.h"
#include "io/output_path.h"
#include "model/llama_model.h"
#include "util/error.h"

extern char** environ;

namespace kvs::cli {
namespace {

bool endsWith(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// The figure's base name: what the export writes its .csv and .json sidecar under.
std::string baseOf(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos || path.find('/', dot) != std::string::npos ? path
                                                                              : path.substr(0, dot);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

void addSweepOptions(CLI::App& app, SweepCliOptions& o) {
  app.add_option("--sweep", o.sweep,
                 "Sweep one parameter: NAME=FROM:TO:POINTS or NAME=V1,V2,... (e.g. "
                 "budget=0.1:0.9:9, sigma=1,2,5); the variants are --methods x its values");
  app.add_option("--plot", o.plot,
                 "With --sweep: write the figure (FILE.pdf, .svg or .png, with its .csv and "
                 ".json sidecar) through kvstudio-plot");
  app.add_option("--plot-measure", o.plotMeasure,
                 "What --plot draws: mean_kl (default), max_kl, top1_agreement, nll, kv_bytes");
  app.add_flag("--plot-log", o.plotLog,
               "A logarithmic y axis for --plot (KL spans decades; points at 0 are left out)");
  app.add_flag("--plot-band", o.plotBand,
               "A shaded min-max band over the prompts for --plot, instead of +-std error bars");
  app.add_option("--plot-size", o.plotSize,
                 "The --plot figure's size in inches, WxH (default 3.5x2.6; PNG at 300 DPI)");
}

std::optional<SweepPlan> sweepPlanOf(const SweepCliOptions& o, const CompressionOptions& flags,
                                     const std::vector<std::string>& methods,
                                     const LlamaModel& model) {
  if (!o.enabled()) {
    require(o.plot.empty(), "--plot draws a sweep; add --sweep NAME=FROM:TO:POINTS");
    return std::nullopt;
  }
  const ParamSweep sweep = parseParamSweep(o.sweep);
  require(!flags.given("method"), "compare --sweep takes --methods, not --method");
  require(!o.budgetsOption || o.budgetsOption->count() == 0,
          "--budgets and --sweep: sweep the budget with --sweep budget=FROM:TO:POINTS, or fix it "
          "for another sweep with --budget");
  const ParamSpec& spec = *sweep.spec;
  require(!flags.given(sweep.key), "--" + spec.flag + " and --sweep " + sweep.text + " both set " +
                                       sweep.key + "; give one");
  require(sweep.key != "budget" || !flags.given("budget_tokens"),
          "--budget-tokens and --sweep " + sweep.text +
              ": the swept ratio is the budget; drop "
              "--budget-tokens");
  measureNamed(o.plotMeasure);  // refused before any work
  const CompressionParams shared = flags.resolve();
  flags.requireUsedBy(methods, shared);
  SweepPlan plan = makeSweepPlan(shared, methods, sweep);
  for (CompressionParams& p : plan.variants) {
    p.validateForModel(model.config().nLayers, model.kvDtype() == at::kFloat);
  }
  return plan;
}

void checkPlotOutput(const SweepCliOptions& o, bool force, const std::vector<std::string>& inputs) {
  if (o.plot.empty()) return;
  const std::string path = lower(o.plot);
  require(endsWith(path, ".pdf") || endsWith(path, ".svg") || endsWith(path, ".png"),
          "--plot " + o.plot + ": name a .pdf, .svg or .png file");
  const std::string base = baseOf(o.plot);
  checkOutputPath(o.plot, force, inputs, "--plot figure");
  checkOutputPath(base + ".csv", force, inputs, "--plot figure's CSV");
  checkOutputPath(base + ".json", force, inputs, "--plot figure's sidecar");
  const auto x = o.plotSize.find('x');
  double width = 0, height = 0;
  try {
    width = std::stod(o.plotSize.substr(0, x));
    height = x == std::string::npos ? 0 : std::stod(o.plotSize.substr(x + 1));
  } catch (const std::exception&) {
  }
  require(width > 0 && width <= 100 && height > 0 && height <= 100,
          "--plot-size " + o.plotSize + ": write WIDTHxHEIGHT in inches, e.g. 3.5x2.6");
  plotToolPath();
}

std::string plotToolPath() {
  if (const char* tool = std::getenv("KVS_PLOT_TOOL"); tool && *tool) {
    require(access(tool, X_OK) == 0, std::string("KVS_PLOT_TOOL=") + tool +
                                         " is not an executable; unset it to use "
                                         "kvstudio-plot beside kvstudio-cli");
    return tool;
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = ".";
  if (n > 0) {
    const std::string exe(self, static_cast<size_t>(n));
    dir = exe.substr(0, exe.rfind('/'));
  }
  const std::string tool = dir + "/kvstudio-plot";
  require(access(tool.c_str(), X_OK) == 0,
          "--plot needs kvstudio-plot beside kvstudio-cli (" + tool +
              "), which is built with the app (Qt 6): cmake --build build --target kvstudio-plot; "
              "or write --json and plot it elsewhere");
  return tool;
}

void printSweepTable(const SweepCurves& c) {
  std::printf("%-10s %10s %19s %9s %15s %8s %10s\n", "method", c.key.c_str(), "mean KL +- std",
              "max KL", "top-1 +- std", "NLL", "KV bytes");
  const auto row = [&](const SweepPoint& p) {
    const std::string value = p.value.is_null() ? "-" : p.value.dump();
    std::printf("%-10s %10s %9.4f +- %6.4f %9.4f %7.3f +- %5.3f %8.4f %10.0f\n", p.method.c_str(),
                value.c_str(), p.of(SweepMeasure::kMeanKl).mean, p.of(SweepMeasure::kMeanKl).std,
                p.of(SweepMeasure::kMaxKl).max, p.of(SweepMeasure::kTop1).mean,
                p.of(SweepMeasure::kTop1).std, p.of(SweepMeasure::kNll).mean,
                p.of(SweepMeasure::kKvBytes).mean);
  };
  row(c.reference);
  for (const SweepPoint& p : c.points) row(p);
  std::printf(
      "(--sweep %s; %d prompt%s: means +- population std over prompts, max KL the "
      "largest of any prompt)\n",
      c.text.c_str(), c.prompts, c.prompts == 1 ? "" : "s");
}

void writeSweepPlot(const SweepCliOptions& o, const nlohmann::ordered_json& compareJson) {
  if (o.plot.empty()) return;
  const std::string tool = plotToolPath();
  char name[] = "/tmp/kvstudio-sweep-XXXXXX";
  const int fd = mkstemp(name);
  require(fd >= 0, "cannot make a temporary file for kvstudio-plot's input in /tmp");
  close(fd);
  {
    std::ofstream out(name);
    out << compareJson.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
    require(out.good(), std::string("cannot write ") + name + " for kvstudio-plot");
  }
  std::vector<std::string> args = {
      tool,          "--input",  name,
      "--output",    o.plot,     "--measure",
      o.plotMeasure, "--source", "kvstudio-cli compare --sweep " + o.sweep};
  const auto x = o.plotSize.find('x');
  if (o.plotLog) args.push_back("--log-y");
  if (o.plotBand) args.push_back("--band");
  args.insert(args.end(),
              {"--width", o.plotSize.substr(0, x), "--height", o.plotSize.substr(x + 1)});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, tool.c_str(), nullptr, nullptr, argv.data(), environ);
  int status = 0;
  if (spawned == 0) waitpid(pid, &status, 0);
  std::remove(name);
  require(spawned == 0, "cannot start " + tool);
  require(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "kvstudio-plot did not write " + o.plot + " (see its message above)");
}

}  // namespace kvs::cli
