// A merged Slurm sweep's compare cells as the Sweep view's curves (issue 20): a hand-made
// results.json whose every cell carries known measures; the expected statistics are plain loops
// over those numbers, not the summary code under test.

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "compress/compression_params.h"
#include "sweep/merged_curves.h"
#include "util/error.h"

namespace kvs::test {
namespace {
using nlohmann::json;

const char* kPrompts[] = {"Once upon a time", "Tom had a big dog"};

// A measure's value in a cell: distinct per prompt, setting and measure, so a value taken from
// the wrong cell or the wrong measure shows.
double valueOf(int prompt, int setting, int measure) {
  return 0.1 * (prompt + 1) * (setting + 1) + 0.001 * measure + 0.37 * prompt * prompt;
}

json cell(const json& setting, int prompt, int index) {
  const char* keys[] = {"mean_kl", "max_kl", "top1_agreement", "nll", "kv_bytes"};
  json result = {{"prompt_index", prompt}, {"kv_bytes_full", 4096}, {"achieved_ratio", 0.5}};
  for (int m = 0; m < 5; ++m) result[keys[m]] = valueOf(prompt, index, m);
  result["kv_bytes"] = 1000 * (index + 1) + 10 * prompt;  // whole bytes, as compare writes
  return {{"id", "c" + std::to_string(prompt) + "_" + std::to_string(index)},
          {"kind", "compare"},
          {"model", "../models/stories260K.bin"},
          {"task", {{"kind", "compare"}, {"prompt", kPrompts[prompt]}, {"new_tokens", 8}}},
          {"setting", setting},
          {"setting_name", "x"},
          {"result", result}};
}

// The settings in the plan's order, each as the run writes a cell's setting (toJson).
std::vector<json> settings() {
  std::vector<json> out = {toJson(paramsFromJson({{"method", "full"}}))};
  for (const char* m : {"h2o", "kvmerger"}) {
    for (double b : {0.3, 0.6})
      out.push_back(toJson(paramsFromJson({{"method", m}, {"budget", b}})));
  }
  for (double s : {1.0, 5.0}) {
    out.push_back(toJson(paramsFromJson({{"method", "kvmerger"}, {"budget", 0.5}, {"sigma", s}})));
  }
  return out;
}

json merged(bool withFull = true, bool complete = true) {
  json plan = {{"name", "t"},
               {"settings",
                {{{"method", "full"}},
                 {{"method", {"h2o", "kvmerger"}}, {"sweep", {"budget=0.3,0.6"}}},
                 {{"method", "kvmerger"}, {"budget", 0.5}, {"sweep", {"sigma=1,5"}}}}}};
  json cells = json::array();
  const auto all = settings();
  for (int p = 0; p < 2; ++p) {
    for (size_t s = 0; s < all.size(); ++s) {
      if (s == 0 && !withFull) continue;
      if (!complete && p == 1 && s == 3) continue;
      cells.push_back(cell(all[s], p, static_cast<int>(s)));
    }
  }
  // A needle cell of the same model: not a compare cell, never a point.
  cells.push_back({{"kind", "needle"}, {"model", "../models/stories260K.bin"}, {"result", {}}});
  return {{"name", "t"},
          {"plan", plan},
          {"cells", cells},
          {"missing", json::array()},
          {"tables", json::object()}};
}

void expectPoint(const SweepPoint& got, int setting, const std::string& what) {
  for (int m = 0; m < 5; ++m) {
    double a = valueOf(0, setting, m), b = valueOf(1, setting, m);
    if (m == 4) a = 1000.0 * (setting + 1), b = 1000.0 * (setting + 1) + 10;
    const SweepStats& s = got.stats[m];
    EXPECT_DOUBLE_EQ(s.mean, (a + b) / 2) << what << " measure " << m;
    EXPECT_DOUBLE_EQ(s.std, std::abs(a - b) / 2) << what << " measure " << m;
    EXPECT_DOUBLE_EQ(s.min, std::min(a, b)) << what << " measure " << m;
    EXPECT_DOUBLE_EQ(s.max, std::max(a, b)) << what << " measure " << m;
    ASSERT_EQ(got.perPrompt.size(), 2u) << what;
    EXPECT_DOUBLE_EQ(got.perPrompt[0][m], a) << what << " measure " << m;
    EXPECT_DOUBLE_EQ(got.perPrompt[1][m], b) << what << " measure " << m;
  }
}

TEST(MergedSweepCurves, EachPointSummarisesItsCellsOverThePrompts) {
  const SweepCurves c = sweep::curvesFromMergedSweep(merged());
  EXPECT_EQ(c.key, "budget");
  EXPECT_EQ(c.text, "budget=0.3,0.6");
  EXPECT_EQ(c.prompts, 2);
  EXPECT_EQ(c.reference.method, "full");
  expectPoint(c.reference, 0, "full");
  ASSERT_EQ(c.points.size(), 4u);
  const char* methods[] = {"h2o", "h2o", "kvmerger", "kvmerger"};
  const double budgets[] = {0.3, 0.6, 0.3, 0.6};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(c.points[i].method, methods[i]);
    EXPECT_DOUBLE_EQ(c.points[i].x, budgets[i]);
    expectPoint(c.points[i], i + 1, methods[i] + std::to_string(budgets[i]));
  }
}

TEST(MergedSweepCurves, TheParameterChoosesTheSettingsEntry) {
  const auto choices = sweep::mergedSweepChoices(merged());
  ASSERT_EQ(choices.size(), 2u);
  EXPECT_EQ(choices[1].parameter, "sigma");
  const SweepCurves c = sweep::curvesFromMergedSweep(merged(), "sigma");
  EXPECT_EQ(c.key, "sigma");
  ASSERT_EQ(c.points.size(), 2u);
  expectPoint(c.points[0], 5, "sigma 1");
  expectPoint(c.points[1], 6, "sigma 5");
  // The same curves through the JSON the app and kvstudio-plot read.
  const SweepCurves back = sweepCurvesFromJson(json::parse(sweepJson(c).dump()));
  expectPoint(back.points[1], 6, "sigma 5 read back");
}

TEST(MergedSweepCurves, RefusalsNameTheFix) {
  const auto message = [](const json& j, const std::string& parameter) {
    try {
      sweep::curvesFromMergedSweep(j, parameter);
    } catch (const KvsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(merged(false), "").find("{\"method\": \"full\"}"), std::string::npos);
  EXPECT_NE(message(merged(true, false), "").find("merged with --partial"), std::string::npos);
  const std::string eps = message(merged(), "eps");
  EXPECT_NE(eps.find("budget=0.3,0.6 on ../models/stories260K.bin"), std::string::npos) << eps;
  EXPECT_THROW(sweep::curvesFromMergedSweep(json{{"sweep", 1}}), KvsError);
}

}  // namespace
}  // namespace kvs::test
