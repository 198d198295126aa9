#include "sweep/merged_curves.h"

#include <algorithm>
#include <map>

#include "compress/compression_method.h"
#include "compress/param_sweep.h"
#include "session/comparison.h"
#include "sweep/sweep_plan.h"
#include "util/error.h"

namespace kvs::sweep {
using json = nlohmann::json;
namespace {

// A cell's measures as compare's outcome, so summarizeSweep reads them as it reads compare's.
VariantOutcome outcomeOf(const json& cell) {
  const json& r = cell.at("result");
  VariantOutcome o;
  o.params = paramsFromJson(cell.at("setting"));
  o.meanKl = r.at("mean_kl").get<double>();
  o.maxKl = r.at("max_kl").get<double>();
  o.top1Agreement = r.at("top1_agreement").get<double>();
  o.nll = r.at("nll").get<double>();
  o.kvBytes = r.at("kv_bytes").get<int64_t>();
  o.kvBytesFull = r.value("kv_bytes_full", int64_t{0});
  o.achievedRatio = r.value("achieved_ratio", 1.0);
  return o;
}

// The single sweep of a settings entry, or none (no sweep, or a grid of several).
bool singleSweep(const json& entry, std::string* text) {
  if (!entry.is_object() || !entry.contains("sweep")) return false;
  const json& list = entry.at("sweep");
  if (!list.is_array() || list.size() != 1 || !list[0].is_string()) return false;
  *text = list[0].get<std::string>();
  return true;
}

std::vector<const json*> compareCells(const json& merged, const std::string& model) {
  std::vector<const json*> cells;
  for (const json& c : merged.at("cells")) {
    if (c.value("kind", "") == "compare" && c.value("model", "") == model) cells.push_back(&c);
  }
  return cells;
}

std::vector<std::string> modelsOf(const json& merged) {
  std::vector<std::string> models;
  for (const json& c : merged.at("cells")) {
    const std::string m = c.value("model", "");
    if (c.value("kind", "") == "compare" &&
        std::find(models.begin(), models.end(), m) == models.end())
      models.push_back(m);
  }
  return models;
}

std::string describe(const std::vector<MergedSweepChoice>& choices) {
  std::string out;
  for (const MergedSweepChoice& c : choices) {
    out += (out.empty() ? "" : "; ") + c.text + " on " + c.model;
  }
  return out.empty() ? "no compare task with a settings entry sweeping one parameter" : out;
}

}  // namespace

bool isMergedSweep(const json& j) {
  return j.is_object() && j.contains("cells") && j.contains("plan") && j.contains("tables");
}

std::vector<MergedSweepChoice> mergedSweepChoices(const json& merged) {
  require(isMergedSweep(merged),
          "not a merged sweep: expected DIR/merged/results.json of `kvstudio-cli sweep merge`");
  std::vector<MergedSweepChoice> choices;
  const json settings = merged.at("plan").value("settings", json::array());
  for (const std::string& model : modelsOf(merged)) {
    for (size_t e = 0; e < settings.size(); ++e) {
      std::string text;
      if (!singleSweep(settings[e], &text)) continue;
      choices.push_back({model, parseParamSweep(text).key, static_cast<int>(e), text});
    }
  }
  return choices;
}

SweepCurves curvesFromMergedSweep(const json& merged, const std::string& parameter,
                                  const std::string& model) {
  const std::vector<MergedSweepChoice> choices = mergedSweepChoices(merged);
  const auto chosen = std::find_if(choices.begin(), choices.end(), [&](const auto& c) {
    return (parameter.empty() || c.parameter == parameter) && (model.empty() || c.model == model);
  });
  require(chosen != choices.end(), "the merged sweep holds no curves" +
                                       (parameter.empty() ? std::string() : " of " + parameter) +
                                       (model.empty() ? std::string() : " on " + model) +
                                       "; it holds: " + describe(choices) +
                                       " (a curve is a settings entry with one \"sweep\")");
  const json& entry = merged.at("plan").at("settings").at(chosen->entry);
  const std::string where = "the plan's settings[" + std::to_string(chosen->entry) + "]";

  // The entry's settings as the plan expanded them (expandSettings: methods x the sweep's
  // values, method-major), which is makeSweepPlan's order: the full cache is the reference.
  kvs::SweepPlan plan;  // session/sweep_curves.h's, not this namespace's plan of cells
  plan.sweep = parseParamSweep(chosen->text);
  for (const CompressionParams& p : expandSettings(json::array({entry}), where)) {
    if (!compresses(p)) continue;
    if (std::find(plan.methods.begin(), plan.methods.end(), p.method) == plan.methods.end())
      plan.methods.push_back(p.method);
    plan.variants.push_back(p);
  }
  require(!plan.methods.empty() && plan.variants.size() == plan.methods.size() * plan.points(),
          where + " (" + chosen->text + ") has no compressing method at every value");

  // Cells by prompt (its task, in plan order) and setting.
  std::vector<std::string> prompts;
  std::map<std::string, std::map<std::string, const json*>> byPrompt;
  std::map<std::string, const json*> fullOf;  // the first full-cache cell of each prompt
  for (const json* c : compareCells(merged, chosen->model)) {
    const std::string task = c->at("task").dump();
    if (!byPrompt.count(task)) prompts.push_back(task);
    byPrompt[task][c->at("setting").dump()] = c;
    if (!compresses(paramsFromJson(c->at("setting"))) && !fullOf.count(task)) fullOf[task] = c;
  }
  const auto settingKey = [](const CompressionParams& p) { return json(toJson(p)).dump(); };
  std::vector<std::vector<VariantOutcome>> outcomes;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& cells = byPrompt[prompts[i]];
    const std::string which = "prompt " + std::to_string(i + 1) + " of " + chosen->model;
    const auto full = fullOf.find(prompts[i]);
    require(full != fullOf.end(),
            "the merged sweep has no full-cache cell for " + which +
                ": the reference line needs a {\"method\": \"full\"} setting in the plan (add it "
                "and run the sweep again: only the new cells are computed)");
    std::vector<VariantOutcome> prompt = {outcomeOf(*full->second)};
    for (const CompressionParams& p : plan.variants) {
      const auto cell = cells.find(settingKey(p));
      require(cell != cells.end(), "the merged sweep lacks the cell of " + variantName(p) +
                                       " for " + which +
                                       " (merged with --partial?); run the missing shards and "
                                       "merge again");
      prompt.push_back(outcomeOf(*cell->second));
    }
    outcomes.push_back(std::move(prompt));
  }
  return summarizeSweep(plan, outcomes);
}

SweepCurves sweepCurvesFromAnyJson(const json& j, const std::string& parameter,
                                   const std::string& model) {
  if (isMergedSweep(j)) return curvesFromMergedSweep(j, parameter, model);
  return sweepCurvesFromJson(j);
}

}  // namespace kvs::sweep
