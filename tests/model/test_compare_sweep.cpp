// compare --sweep and --plot as a user runs them (issue 20): the variants are --methods x the swept
// values, every row carries its value, the summary per (method, value) is the mean / population
// std / min / max over the prompts of the rows themselves, refusals name the fix, and --plot
// writes a real PNG, PDF or SVG with its CSV and sidecar.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace kvs::test {
namespace {

const std::string kModel = "--model " + modelPath("stories260K.bin");

// Two short prompts: the summary has a spread, and the run stays quick.
std::string twoPrompts(const TempDir& dir) {
  const std::string path = dir.file("prompts.txt");
  std::ofstream(path) << "# a comment line, skipped\n"
                      << "Once upon a time, there was a little girl named Lily. She loved to play "
                         "outside in the park with her red ball.\n"
                      << "\n"
                      << "Tom had a big dog. The dog liked to run and jump in the garden every "
                         "day, and Tom laughed.\n";
  return path;
}

struct Expected {
  double mean = 0, std = 0, min = 0, max = 0;
};

Expected statsOf(const std::vector<double>& v) {
  Expected e;
  e.min = *std::min_element(v.begin(), v.end());
  e.max = *std::max_element(v.begin(), v.end());
  for (double x : v) e.mean += x / v.size();
  double var = 0;
  for (double x : v) var += (x - e.mean) * (x - e.mean);
  e.std = std::sqrt(var / v.size());
  return e;
}

void expectStats(const nlohmann::json& got, const std::vector<double>& rows,
                 const std::string& what) {
  const Expected e = statsOf(rows);
  EXPECT_NEAR(got.at("mean").get<double>(), e.mean, 1e-12) << what;
  EXPECT_NEAR(got.at("std").get<double>(), e.std, 1e-12) << what;
  EXPECT_NEAR(got.at("min").get<double>(), e.min, 1e-12) << what;
  EXPECT_NEAR(got.at("max").get<double>(), e.max, 1e-12) << what;
}

TEST(CompareSweep, EveryPointIsTheSummaryOfItsRowsOverThePrompts) {
  TempDir dir;
  const CliRun r = runCliCommand("compare " + kModel + " --prompts-file " + twoPrompts(dir) +
                                 " --methods full,kvmerger,h2o --sweep budget=0.3:0.7:3"
                                 " --new-tokens 12 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& rows = j.at("variants");
  ASSERT_EQ(rows.size(), 2u * (1 + 2 * 3));  // per prompt: the full cache, 2 methods x 3 budgets
  const auto& sweep = j.at("sweep");
  EXPECT_EQ(sweep.at("parameter").get<std::string>(), "budget");
  EXPECT_EQ(sweep.at("prompts").get<int>(), 2);
  const auto& points = sweep.at("points");
  ASSERT_EQ(points.size(), 6u);
  const std::vector<std::string> measures = {"mean_kl", "max_kl", "top1_agreement", "nll",
                                             "kv_bytes"};
  for (const auto& point : points) {
    const std::string method = point.at("method").get<std::string>();
    const double budget = point.at("value").get<double>();
    EXPECT_EQ(point.at("x").get<double>(), budget);
    for (const std::string& m : measures) {
      std::vector<double> values;
      for (const auto& row : rows) {
        if (row.at("method") == method && row.at("budget").get<double>() == budget)
          values.push_back(row.at(m).get<double>());
      }
      ASSERT_EQ(values.size(), 2u) << method << " " << budget;
      expectStats(point.at(m), values, method + " " + std::to_string(budget) + " " + m);
    }
  }
  EXPECT_EQ(points[0].at("method"), "kvmerger");  // method-major, the values in the order given
  EXPECT_EQ(points[2].at("value").get<double>(), 0.7);
  EXPECT_EQ(points[3].at("method"), "h2o");
  std::vector<double> fullNll;
  for (const auto& row : rows) {
    if (row.at("method") == "full") fullNll.push_back(row.at("nll").get<double>());
  }
  expectStats(sweep.at("reference").at("nll"), fullNll, "full cache NLL");
  EXPECT_EQ(sweep.at("reference").at("mean_kl").at("max").get<double>(), 0.0);
}

TEST(CompareSweep, AnotherParameterGetsItsOwnColumn) {
  const CliRun r = runCliCommand("compare " + kModel +
                                 " --prompt 'Once upon a time, there was a little girl named "
                                 "Lily. She loved to play.' --methods kvmerger --budget 0.5"
                                 " --sweep sigma=1,5 --new-tokens 8 --csv");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, full, first, second;
  std::getline(lines, header);
  std::getline(lines, full);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header.rfind("prompt,method,budget,sigma,mean_kl,", 0), 0u) << header;
  EXPECT_EQ(full.rfind("0,full,1,,", 0), 0u) << full;
  EXPECT_EQ(first.rfind("0,kvmerger,0.5,1.0,", 0), 0u) << first;
  EXPECT_EQ(second.rfind("0,kvmerger,0.5,5.0,", 0), 0u) << second;
}

TEST(CompareSweep, RefusalsNameTheFix) {
  const std::string base = "compare " + kModel + " --prompt 'Once upon a time' --new-tokens 4 ";
  const auto refused = [&](const std::string& args, const std::string& needle) {
    const CliRun r = runCliCommand(base + args);
    EXPECT_EQ(r.exitCode, 2) << args;
    EXPECT_NE(r.err.find(needle), std::string::npos) << args << ": " << r.err;
  };
  refused("--methods h2o,kvmerger --sweep sigma=1,2", "no effect for h2o");
  refused("--methods h2o,kvmerger --sweep sigma=1,2", "(kvmerger)");
  refused("--methods kvmerger --sweep budget=0.3,0.5 --budgets 0.5", "--sweep budget=");
  refused("--methods kvmerger --sweep budget=0.3,0.5 --budget 0.4", "give one");
  refused("--methods full --sweep budget=0.3,0.5", "needs a method that compresses");
  refused("--methods kvmerger --plot x.png", "add --sweep");
  refused("--methods kvmerger --sweep budget=0.3,0.5 --plot x.txt", ".pdf, .svg or .png");
  refused("--methods kvmerger --sweep budget=0.3,0.5 --plot x.png --plot-measure speed",
          "no measure 'speed'");
}

#ifdef KVS_PLOT_TOOL_BUILT
TEST(CompareSweep, PlotWritesAFigureOfEachFormatWithItsCsvAndSidecar) {
  TempDir dir;
  const std::string prompts = twoPrompts(dir);
  const std::pair<std::string, std::string> formats[] = {
      {"png", "\x89PNG\r\n"}, {"pdf", "%PDF-"}, {"svg", "<?xml"}};
  for (const auto& [format, magic] : formats) {
    const std::string figure = dir.file("sweep_" + format + "." + format);
    const CliRun r =
        runCliCommand("compare " + kModel + " --prompts-file " + prompts +
                      " --methods kvmerger,h2o --sweep budget=0.3:0.7:3"
                      " --new-tokens 8 --plot " +
                      figure + (format == "pdf" ? " --plot-measure top1_agreement" : ""));
    ASSERT_EQ(r.exitCode, 0) << format << ": " << r.err;
    const std::string bytes = readFile(figure);
    ASSERT_GT(bytes.size(), 1000u) << format;
    EXPECT_EQ(bytes.substr(0, magic.size()), magic) << format;
    if (format == "svg") EXPECT_NE(bytes.find("<svg"), std::string::npos);
    if (format == "pdf") EXPECT_NE(bytes.find("%%EOF"), std::string::npos);
    const std::string base = figure.substr(0, figure.size() - format.size() - 1);
    const std::string csv = readFile(base + ".csv");
    // header, full, 6 points, then each of those 7 for each of the 2 prompts
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 1 + 6 + 7 * 2) << csv;
    EXPECT_EQ(csv.rfind("method,budget,x,prompts,prompt,mean_kl_mean,mean_kl_std,", 0), 0u) << csv;
    const auto sidecar = nlohmann::json::parse(readFile(base + ".json"));
    EXPECT_EQ(sidecar.at("view").at("parameter"), "budget");
    EXPECT_EQ(sidecar.at("view").at("prompts"), 2);
    EXPECT_EQ(sidecar.at("view").at("measure"), format == "pdf" ? "top1_agreement" : "mean_kl");
    EXPECT_EQ(sidecar.at("files").at(0).at("format"), format);
  }
  // The figure exists now: refused without --force, before any work.
  const CliRun again = runCliCommand("compare " + kModel + " --prompts-file " + prompts +
                                     " --methods kvmerger --sweep budget=0.3,0.5 --plot " +
                                     dir.file("sweep_png.png"));
  EXPECT_EQ(again.exitCode, 2);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
}

TEST(CompareSweep, AMissingPlotToolIsNamedBeforeAnyWork) {
  TempDir dir;
  const CliRun r = runCliCommand("compare " + kModel +
                                     " --prompt 'Once upon a time' --methods kvmerger"
                                     " --sweep budget=0.3,0.5 --plot " +
                                     dir.file("x.png"),
                                 "export KVS_PLOT_TOOL=" + dir.file("no-such-tool") + ";");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("is not an executable"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("variants"), std::string::npos) << "ran before refusing: " << r.err;
}
#endif

}  // namespace
}  // namespace kvs::test
