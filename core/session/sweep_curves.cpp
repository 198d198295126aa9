#include "session/sweep_curves.h"

#include <algorithm>
#include <cmath>

#include "compress/compression_method.h"
#include "compress/param_spec.h"
#include "util/error.h"

namespace kvs {
namespace {

struct MeasureInfo {
  SweepMeasure measure;
  const char* key;
  const char* label;
};

constexpr MeasureInfo kMeasures[kSweepMeasures] = {
    {SweepMeasure::kMeanKl, "mean_kl", "mean KL (nats)"},
    {SweepMeasure::kMaxKl, "max_kl", "max KL (nats)"},
    {SweepMeasure::kTop1, "top1_agreement", "top-1 agreement"},
    {SweepMeasure::kNll, "nll", "NLL (nats/token)"},
    {SweepMeasure::kKvBytes, "kv_bytes", "KV bytes"},
};

const MeasureInfo& infoOf(SweepMeasure m) {
  return kMeasures[static_cast<size_t>(m)];
}

nlohmann::ordered_json statsJson(const SweepStats& s) {
  return {{"mean", s.mean}, {"std", s.std}, {"min", s.min}, {"max", s.max}};
}

SweepPoint pointFrom(const nlohmann::json& j) {
  SweepPoint p;
  p.method = j.at("method").get<std::string>();
  p.value = j.value("value", nlohmann::json());
  p.x = j.value("x", 0.0);
  for (SweepMeasure m : sweepMeasures()) {
    const nlohmann::json& s = j.at(measureKey(m));
    p.stats[static_cast<size_t>(m)] = {s.at("mean").get<double>(), s.at("std").get<double>(),
                                       s.at("min").get<double>(), s.at("max").get<double>()};
  }
  // Older files (before per-prompt values were written) have the summary only.
  if (j.contains("per_prompt")) {
    const nlohmann::json& per = j.at("per_prompt");
    const size_t prompts = per.at(measureKey(SweepMeasure::kMeanKl)).size();
    p.perPrompt.resize(prompts);
    for (SweepMeasure m : sweepMeasures()) {
      const nlohmann::json& values = per.at(measureKey(m));
      require(values.size() == prompts, "a sweep point's per_prompt lists differ in length");
      for (size_t i = 0; i < prompts; ++i)
        p.perPrompt[i][static_cast<size_t>(m)] = values[i].get<double>();
    }
  }
  return p;
}

nlohmann::ordered_json pointJson(const SweepPoint& p) {
  nlohmann::ordered_json j = {{"method", p.method}, {"value", p.value}, {"x", p.x}};
  for (SweepMeasure m : sweepMeasures()) j[measureKey(m)] = statsJson(p.of(m));
  nlohmann::ordered_json per;
  for (SweepMeasure m : sweepMeasures()) {
    nlohmann::ordered_json values = nlohmann::ordered_json::array();
    for (const auto& prompt : p.perPrompt) values.push_back(prompt[static_cast<size_t>(m)]);
    per[measureKey(m)] = values;
  }
  j["per_prompt"] = per;
  return j;
}

}  // namespace

const std::array<SweepMeasure, kSweepMeasures>& sweepMeasures() {
  static const std::array<SweepMeasure, kSweepMeasures> all = {
      SweepMeasure::kMeanKl, SweepMeasure::kMaxKl, SweepMeasure::kTop1, SweepMeasure::kNll,
      SweepMeasure::kKvBytes};
  return all;
}

std::string measureKey(SweepMeasure m) {
  return infoOf(m).key;
}

std::string measureLabel(SweepMeasure m) {
  return infoOf(m).label;
}

SweepMeasure measureNamed(const std::string& key) {
  std::string keys;
  for (const MeasureInfo& info : kMeasures) {
    if (key == info.key) return info.measure;
    keys += (keys.empty() ? "" : ", ") + std::string(info.key);
  }
  throw KvsError("no measure '" + key + "'; choose one of: " + keys);
}

double measureOf(const VariantOutcome& o, SweepMeasure m) {
  switch (m) {
    case SweepMeasure::kMeanKl:
      return o.meanKl;
    case SweepMeasure::kMaxKl:
      return o.maxKl;
    case SweepMeasure::kTop1:
      return o.top1Agreement;
    case SweepMeasure::kNll:
      return o.nll;
    case SweepMeasure::kKvBytes:
      return static_cast<double>(o.kvBytes);
  }
  return 0;
}

SweepPlan makeSweepPlan(const CompressionParams& shared, const std::vector<std::string>& methods,
                        const ParamSweep& sweep) {
  SweepPlan plan;
  plan.sweep = sweep;
  for (const std::string& name : methods) {
    const CompressionMethod& method = methodNamed(name);  // an unknown name lists the known ones
    if (!method.compresses()) continue;                   // the reference, measured anyway
    plan.methods.push_back(method.name());
    CompressionParams base = shared;
    base.method = method.name();
    for (size_t i = 0; i < sweep.values.size(); ++i) {
      CompressionParams p = withSweepValue(base, sweep, i);
      p.validate();
      plan.variants.push_back(p);
    }
  }
  require(!plan.methods.empty(),
          "--sweep " + sweep.text + " needs a method that compresses, e.g. --methods kvmerger");
  return plan;
}

SweepStats statsOf(const std::vector<double>& values) {
  SweepStats s;
  if (values.empty()) return s;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  for (double v : values) s.mean += v / values.size();
  double var = 0;
  for (double v : values) var += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(var / values.size());
  return s;
}

std::vector<std::string> SweepCurves::methods() const {
  std::vector<std::string> names;
  for (const SweepPoint& p : points) {
    if (std::find(names.begin(), names.end(), p.method) == names.end()) names.push_back(p.method);
  }
  return names;
}

SweepCurves summarizeSweep(const SweepPlan& plan,
                           const std::vector<std::vector<VariantOutcome>>& outcomes) {
  SweepCurves c;
  c.key = plan.sweep.key;
  c.label = plan.sweep.spec ? plan.sweep.spec->label : plan.sweep.key;
  c.text = plan.sweep.text;
  c.values = plan.sweep.values;
  c.prompts = static_cast<int>(outcomes.size());
  for (const auto& prompt : outcomes) {
    require(prompt.size() == plan.variants.size() + 1,
            "a sweep's prompt has " + std::to_string(prompt.size()) + " outcomes, not " +
                std::to_string(plan.variants.size() + 1));
  }
  // Outcome 0 is the full cache; outcome v + 1 is plan.variants[v].
  const auto summarise = [&](size_t outcome, SweepPoint& point) {
    point.perPrompt.assign(outcomes.size(), {});
    for (SweepMeasure m : sweepMeasures()) {
      std::vector<double> values;
      for (const auto& prompt : outcomes) values.push_back(measureOf(prompt[outcome], m));
      for (size_t i = 0; i < values.size(); ++i)
        point.perPrompt[i][static_cast<size_t>(m)] = values[i];
      point.stats[static_cast<size_t>(m)] = statsOf(values);
    }
  };
  c.reference.method = "full";
  summarise(0, c.reference);
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    SweepPoint p;
    p.method = plan.variants[v].method;
    const size_t i = v % plan.points();
    p.value = plan.sweep.values[i];
    p.x = sweepAxisValue(plan.sweep, i);
    summarise(v + 1, p);
    c.points.push_back(p);
  }
  return c;
}

nlohmann::ordered_json sweepJson(const SweepCurves& c) {
  nlohmann::ordered_json j;
  j["parameter"] = c.key;
  j["label"] = c.label;
  j["text"] = c.text;
  j["values"] = c.values;
  j["prompts"] = c.prompts;
  j["std"] = "population, over prompts";
  j["reference"] = pointJson(c.reference);
  j["points"] = nlohmann::ordered_json::array();
  for (const SweepPoint& p : c.points) j["points"].push_back(pointJson(p));
  return j;
}

SweepCurves sweepCurvesFromJson(const nlohmann::json& json) {
  const nlohmann::json& j = json.contains("sweep") ? json.at("sweep") : json;
  require(j.is_object() && j.contains("parameter") && j.contains("points"),
          "not a sweep: expected the output of `kvstudio-cli compare --sweep ... --json` (its "
          "\"sweep\" object, with \"parameter\" and \"points\")");
  try {
    SweepCurves c;
    c.key = j.at("parameter").get<std::string>();
    c.label = j.value("label", c.key);
    c.text = j.value("text", std::string());
    c.values = j.value("values", std::vector<nlohmann::json>());
    c.prompts = j.value("prompts", 1);
    c.reference = pointFrom(j.at("reference"));
    for (const nlohmann::json& p : j.at("points")) c.points.push_back(pointFrom(p));
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw KvsError(std::string("a sweep's JSON is incomplete: ") + e.what());
  }
}

}  // namespace kvs
