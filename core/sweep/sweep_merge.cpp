// sweep merge: every finished cell of an output folder's plan, in plan order, into one results
// file with the summary tables, and per model the records files and HDF5 groups the app's
// Evaluation panel opens (eval_h5.h).

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "eval/eval_h5.h"
#include "eval/longbench_run.h"
#include "sweep/sweep_cell.h"
#include "sweep/sweep_run.h"
#include "util/error.h"

namespace kvs::sweep {
namespace fs = std::filesystem;
using json = nlohmann::json;
namespace {

// A folder name per model: the file's stem, made unique.
std::map<std::string, std::string> modelLabels(const json& cells) {
  std::map<std::string, std::string> labels;
  std::set<std::string> used;
  for (const json& c : cells) {
    const std::string model = c.at("model");
    if (labels.count(model)) continue;
    std::string label = fs::path(model).stem().string();
    if (label.empty()) label = "model";
    for (int i = 2; used.count(label); ++i)
      label = fs::path(model).stem().string() + "_" + std::to_string(i);
    used.insert(label);
    labels[model] = label;
  }
  return labels;
}

// Means over prompts per (model, setting) of compare cells.
json compareTable(const std::vector<const json*>& cells) {
  std::map<std::pair<std::string, std::string>, std::vector<const json*>> groups;
  std::vector<std::pair<std::string, std::string>> order;
  for (const json* c : cells) {
    const auto key = std::make_pair(c->at("model").get<std::string>(), c->at("setting").dump());
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(c);
  }
  json rows = json::array();
  for (const auto& key : order) {
    const auto& g = groups[key];
    double kl = 0, maxKl = 0, top1 = 0, nll = 0, bytes = 0, kept = 0;
    for (const json* c : g) {
      const json& r = c->at("result");
      kl += r.at("mean_kl").get<double>() / g.size();
      maxKl = std::max(maxKl, r.at("max_kl").get<double>());
      top1 += r.at("top1_agreement").get<double>() / g.size();
      nll += r.at("nll").get<double>() / g.size();
      bytes += r.at("kv_bytes").get<double>() / g.size();
      kept += r.at("achieved_ratio").get<double>() / g.size();
    }
    rows.push_back({{"model", key.first},
                    {"setting", g[0]->at("setting_name")},
                    {"params", g[0]->at("setting")},
                    {"prompts", g.size()},
                    {"mean_kl", kl},
                    {"max_kl", maxKl},
                    {"top1_agreement", top1},
                    {"nll", nll},
                    {"kv_bytes", bytes},
                    {"achieved_ratio", kept}});
  }
  return rows;
}

// One model's perplexity task: the full cache's curve (the same in every cell of the task) once,
// then each cell's curves at its cache sizes.
json perplexityCurves(const std::vector<const json*>& cells) {
  json out = {{"tokens", cells.at(0)->at("result").at("tokens")}, {"curves", json::array()}};
  for (const json* c : cells) {
    for (const json& curve : c->at("result").at("curves")) {
      const bool full = curve.at("params").value("method", "") == "full";
      if (full && c != cells.front()) continue;
      out["curves"].push_back(curve);
    }
  }
  return out;
}

std::string writeJson(const fs::path& path, const json& j, bool lines) {
  std::string text;
  if (lines) {
    for (const json& r : j) text += r.dump() + "\n";
  } else {
    text = j.dump(1) + "\n";
  }
  writeAtomically(path.string(), text);
  return path.string();
}

}  // namespace

json withoutTimings(const json& j) {
  if (j.is_array()) {
    json out = json::array();
    for (const json& v : j) out.push_back(withoutTimings(v));
    return out;
  }
  if (!j.is_object()) return j;
  json out = json::object();
  for (const auto& [key, value] : j.items()) {
    const auto endsWith = [&key](const std::string& suffix) {
      return key.size() >= suffix.size() &&
             key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (endsWith("seconds") || endsWith("_s")) continue;  // e.g. decode_s in the eval records
    out[key] = withoutTimings(value);
  }
  return out;
}

MergeSummary mergeSweep(const std::string& dir, bool partial) {
  const json stored = storedPlan(dir);
  MergeSummary summary;
  json cells = json::array(), missing = json::array();
  for (const json& c : stored.at("cells")) {
    const auto cell = readCell(dir, c.at("id"));
    if (!cell) {
      missing.push_back(c.at("id"));
      continue;
    }
    json entry = *cell;
    entry.erase("run");  // who ran it and how long it took: not part of the result
    cells.push_back(std::move(entry));
  }
  summary.cells = static_cast<int>(stored.at("cells").size());
  summary.missing = static_cast<int>(missing.size());
  if (!missing.empty() && !partial) {
    throw KvsError(std::to_string(missing.size()) + " of " + std::to_string(summary.cells) +
                   " cells are not finished (e.g. " + missing[0].get<std::string>() +
                   "); `sweep status " + dir +
                   "` shows which shards; rerun them (sweep run --shard I/N, or sweep submit "
                   "again), or pass --partial to merge what is there");
  }
  const auto labels = modelLabels(stored.at("cells"));
  // Per model and kind, the cells in plan order (perplexity also per task).
  std::map<std::string, std::map<std::string, std::vector<const json*>>> byModel;
  std::vector<const json*> compareCells;
  for (const json& c : cells) {
    std::string kind = c.at("kind");
    if (kind == "perplexity") kind += "\t" + c.at("task").dump();
    byModel[c.at("model")][kind].push_back(&c);
    if (kind == "compare") compareCells.push_back(&c);
  }
  json tables = {{"compare", compareTable(compareCells)},
                 {"longbench", json::array()},
                 {"needle", json::array()},
                 {"perplexity", json::array()}};
  const fs::path mergedDir = fs::path(dir) / "merged";
  for (const auto& [model, kinds] : byModel) {
    const fs::path folder = mergedDir / labels.at(model);
    fs::create_directories(folder);
    const fs::path h5 = folder / "results.h5";
    std::error_code ignored;
    fs::remove(h5, ignored);  // a fresh file: no group of an earlier merge stays behind
    int perplexityTasks = 0;
    for (const auto& [kind, group] : kinds) {
      if (kind == "compare") continue;
      eval::EvalResults results;
      results.model = model;
      if (kind == "longbench" || kind == "needle") {
        for (const json* c : group) {
          for (const json& r : c->at("records")) results.records.push_back(r);
        }
        results.kind = kind;
        results.source = writeJson(folder / (kind + ".jsonl"), results.records, true);
        if (kind == "longbench") {
          for (const auto& t : eval::scoreRecords(results.records)) {
            tables["longbench"].push_back({{"model", model},
                                           {"task", t.task},
                                           {"setting", t.setting},
                                           {"params", t.params},
                                           {"samples", t.samples},
                                           {"score", t.score}});
          }
        } else {
          for (const json* c : group) {
            for (json row : c->at("result").at("grid")) {
              row["model"] = model;
              tables["needle"].push_back(row);
            }
          }
        }
      } else {  // perplexity: the first task's curves go in the HDF5 file
        json curves = perplexityCurves(group);
        curves["model"] = model;
        const std::string name = perplexityTasks == 0
                                     ? std::string("perplexity.json")
                                     : "perplexity_" + std::to_string(perplexityTasks) + ".json";
        results.kind = "perplexity";
        results.source = writeJson(folder / name, curves, false);
        results.records = {curves};
        for (const json& c : curves.at("curves")) {
          tables["perplexity"].push_back(
              {{"model", model},
               {"setting", c.at("setting")},
               {"cache_size", c.at("cache_size")},
               {"mean_nll_common", c.at("mean_nll_common")},
               {"perplexity", std::exp(c.at("mean_nll_common").get<double>())}});
        }
        if (perplexityTasks++ > 0) {
          summary.files.push_back(results.source);
          continue;
        }
      }
      summary.files.push_back(results.source);
      results.source = fs::absolute(results.source).string();
      eval::writeEvalH5(h5.string(), results, true);
      if (std::find(summary.files.begin(), summary.files.end(), h5.string()) ==
          summary.files.end()) {
        summary.files.push_back(h5.string());
      }
    }
  }
  const json merged = {{"name", stored.at("name")},
                       {"plan", stored.at("plan")},
                       {"cells", cells},
                       {"missing", missing},
                       {"tables", tables}};
  fs::create_directories(mergedDir);
  summary.results = writeJson(mergedDir / "results.json", merged, false);
  summary.files.insert(summary.files.begin(), summary.results);
  summary.digest = sha256Hex(withoutTimings(merged).dump());
  return summary;
}

}  // namespace kvs::sweep
