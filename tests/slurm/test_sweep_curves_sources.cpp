// The curves of one sweep are the same numbers (issue 20) whether `compare --sweep --json` writes
// them or they are read from the cells of a sweep plan run in two shards and merged (no Slurm:
// `sweep run --shard I/N`, then `sweep merge`). The app's own computation is compared with the
// CLI's in tests/gui/test_sweep.cpp. stories260K, two prompts, a budget and a sigma sweep.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/cli_runner.h"
#include "sweep/merged_curves.h"
#include "sweep/slurm_submit.h"
#include "test_util.h"

namespace kvs::test {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kNewTokens = 8;

// Every number of two curves' points must be equal (not merely close): the cells and compare
// run the same variants through the one decode path, and JSON keeps a double exactly.
void expectSameCurves(const SweepCurves& a, const SweepCurves& b) {
  ASSERT_EQ(a.key, b.key);
  ASSERT_EQ(a.prompts, b.prompts);
  ASSERT_EQ(a.points.size(), b.points.size());
  std::vector<std::pair<const SweepPoint*, const SweepPoint*>> pairs = {
      {&a.reference, &b.reference}};
  for (size_t i = 0; i < a.points.size(); ++i) pairs.push_back({&a.points[i], &b.points[i]});
  for (const auto& [p, q] : pairs) {
    const std::string what = p->method + " at " + p->value.dump();
    EXPECT_EQ(p->method, q->method);
    EXPECT_EQ(p->value, q->value) << what;
    ASSERT_EQ(p->perPrompt.size(), static_cast<size_t>(a.prompts)) << what;
    ASSERT_EQ(q->perPrompt.size(), static_cast<size_t>(a.prompts)) << what;
    for (size_t m = 0; m < kSweepMeasures; ++m) {
      for (int i = 0; i < a.prompts; ++i)
        EXPECT_EQ(p->perPrompt[i][m], q->perPrompt[i][m])
            << what << " measure " << m << " prompt " << i;
      EXPECT_EQ(p->stats[m].mean, q->stats[m].mean) << what << " measure " << m;
      EXPECT_EQ(p->stats[m].std, q->stats[m].std) << what << " measure " << m;
      EXPECT_EQ(p->stats[m].min, q->stats[m].min) << what << " measure " << m;
      EXPECT_EQ(p->stats[m].max, q->stats[m].max) << what << " measure " << m;
    }
  }
}

TEST(SweepCurvesSources, CompareAndAMergedShardedSweepGiveTheSameCurves) {
  TempDir d;
  std::ofstream(d.file("prompts.txt"))
      << "Once upon a time, there was a little girl named Lily. She loved to play outside.\n"
      << "Tom had a big dog. The dog liked to run and jump in the garden every day.\n";
  const std::string model = std::string(KVS_MODELS_DIR) + "/stories260K.bin";
  const json plan = {
      {"name", "curves-test"},
      {"models", {model}},
      {"tasks",
       {{{"kind", "compare"}, {"prompts", d.file("prompts.txt")}, {"new_tokens", kNewTokens}}}},
      {"settings",
       {{{"method", "full"}},
        {{"method", {"h2o", "kvmerger"}}, {"sweep", {"budget=0.3:0.7:3"}}},
        {{"method", "kvmerger"}, {"budget", 0.5}, {"sweep", {"sigma=1,5"}}}}}};
  std::ofstream(d.file("plan.json")) << plan.dump();
  const std::string out = sweep::shellQuote(d.file("out"));
  for (const char* shard : {"0/2", "1/2"}) {
    const CliRun r =
        runCliCommand("--threads 1 sweep run " + sweep::shellQuote(d.file("plan.json")) +
                      " --out " + out + " --shard " + shard);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  const CliRun m = runCliCommand("sweep merge " + out);
  ASSERT_EQ(m.exitCode, 0) << m.err;
  const json merged = json::parse(readFile(d.file("out") + "/merged/results.json"));

  for (const std::string sweepText : {"budget=0.3:0.7:3", "sigma=1,5"}) {
    const bool sigma = sweepText.rfind("sigma", 0) == 0;
    const CliRun c =
        runCliCommand("--threads 1 compare --model " + model + " --prompts-file " +
                      sweep::shellQuote(d.file("prompts.txt")) + " --methods " +
                      (sigma ? "full,kvmerger --budget 0.5" : "full,h2o,kvmerger") + " --sweep " +
                      sweepText + " --new-tokens " + std::to_string(kNewTokens) + " --json");
    ASSERT_EQ(c.exitCode, 0) << c.err;
    const SweepCurves fromCompare = sweepCurvesFromJson(json::parse(c.out));
    const SweepCurves fromMerged = sweep::curvesFromMergedSweep(merged, sigma ? "sigma" : "budget");
    EXPECT_EQ(fromMerged.points.size(), sigma ? 2u : 6u);
    expectSameCurves(fromCompare, fromMerged);
    // Not all equal by accident: the curves do vary over the sweep and the prompts.
    EXPECT_NE(fromMerged.points.front().of(SweepMeasure::kMeanKl).mean,
              fromMerged.points.back().of(SweepMeasure::kMeanKl).mean);
    EXPECT_GT(fromMerged.points.front().of(SweepMeasure::kNll).std, 0);
  }

  // kvstudio-plot draws the merged sweep's sigma curves, with a min-max band, as the app would.
  const std::string cli = KVS_CLI_PATH;
  const std::string plot = cli.substr(0, cli.rfind('/')) + "/kvstudio-plot";
  if (!fs::exists(plot)) GTEST_SKIP() << "no kvstudio-plot (built with the GUI)";
  const int status =
      std::system((plot + " --input " + sweep::shellQuote(d.file("out") + "/merged/results.json") +
                   " --output " + sweep::shellQuote(d.file("sigma.svg")) +
                   " --parameter sigma --band 2> " + sweep::shellQuote(d.file("plot.err")))
                      .c_str());
  ASSERT_EQ(status, 0) << readFile(d.file("plot.err"));
  EXPECT_TRUE(fs::file_size(d.file("sigma.svg")) > 0);
  const std::string csv = readFile(d.file("sigma.csv"));
  // The header, the full cache and 2 sigma values, then 3 x 2 prompts' rows.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 + 3 * 2) << csv;
  const json sidecar = json::parse(readFile(d.file("sigma.json")));
  EXPECT_EQ(sidecar.at("view").at("parameter"), "sigma");
  EXPECT_EQ(sidecar.at("view").at("error_bars"), "min-max band over prompts");
  EXPECT_EQ(sidecar.at("name"), "curves-test");  // the plan the cells came from
}

}  // namespace
}  // namespace kvs::test
