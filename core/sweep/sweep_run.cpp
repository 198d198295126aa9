#include "sweep/sweep_run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <thread>

#include "model/model_loader.h"
#include "session/session.h"
#include "sweep/sweep_cell.h"
#include "util/error.h"

namespace kvs::sweep {
namespace fs = std::filesystem;
using json = nlohmann::json;
namespace {

int whole(const std::string& text, const std::string& what) {
  size_t used = 0;
  int value = -1;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used > 0 && used == text.size(), what + " '" + text + "' is not a whole number");
  return value;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string hostName() {
  char name[256] = {0};
  ::gethostname(name, sizeof name - 1);
  return name;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ShardChoice chooseShard(const std::string& option) {
  ShardChoice c;
  if (!option.empty()) {
    const size_t slash = option.find('/');
    require(slash != std::string::npos, "--shard " + option + ": write I/N, e.g. 0/4 (I from 0)");
    c.index = whole(option.substr(0, slash), "--shard's I");
    c.count = whole(option.substr(slash + 1), "--shard's N");
    require(c.count >= 1 && c.index >= 0 && c.index < c.count,
            "--shard " + option + ": I must be from 0 to N-1 and N at least 1");
    c.source = "--shard";
    return c;
  }
  const std::string id = env("SLURM_ARRAY_TASK_ID");
  if (id.empty()) return c;
  const std::string minText = env("SLURM_ARRAY_TASK_MIN"), maxText = env("SLURM_ARRAY_TASK_MAX"),
                    countText = env("SLURM_ARRAY_TASK_COUNT");
  const int min = minText.empty() ? 0 : whole(minText, "SLURM_ARRAY_TASK_MIN");
  c.index = whole(id, "SLURM_ARRAY_TASK_ID") - min;
  if (!countText.empty()) {
    c.count = whole(countText, "SLURM_ARRAY_TASK_COUNT");
  } else {
    require(!maxText.empty(),
            "a Slurm array task without SLURM_ARRAY_TASK_COUNT or _MAX; pass --shard I/N");
    c.count = whole(maxText, "SLURM_ARRAY_TASK_MAX") - min + 1;
  }
  require(c.count >= 1 && c.index >= 0 && c.index < c.count,
          "the Slurm array task " + id + " is outside its array (" + std::to_string(c.count) +
              " tasks from " + std::to_string(min) + "); submit the array as 0-(N-1)");
  c.source = "SLURM_ARRAY_TASK_ID";
  return c;
}

RunSummary runSweep(const SweepPlan& plan, const std::string& dir, const ShardChoice& shard,
                    const RunOptions& options, std::ostream& log) {
  prepareOutDir(plan, dir);
  std::vector<const SweepCell*> cells = shardCells(plan, shard.index, shard.count);
  // One model load per model: the shard's cells grouped by model, plan order kept within.
  std::stable_sort(cells.begin(), cells.end(), [](const SweepCell* a, const SweepCell* b) {
    return a->modelPath < b->modelPath;
  });
  const std::string label = std::to_string(shard.index) + "/" + std::to_string(shard.count);
  RunSummary summary;
  summary.cells = static_cast<int>(cells.size());
  std::unique_ptr<Session> session;
  std::string loaded;
  for (const SweepCell* cell : cells) {
    if (readCell(dir, cell->id)) {
      ++summary.skipped;
      continue;
    }
    const std::string key = cell->modelPath + '\n' + cell->dtype + '\n' + cell->kvDtype;
    if (!session || loaded != key) {
      session.reset();  // two models never need to fit at once
      LoadOptions load;
      load.device = parseDevice(options.device);
      load.dtype = parseDtype(cell->dtype, "the plan's dtype");
      load.kvDtype = parseDtype(cell->kvDtype, "the plan's kv_dtype");
      session = Session::open(cell->modelPath, load, cell->tokenizer);
      loaded = key;
    }
    const json who = {{"host", hostName()},
                      {"pid", ::getpid()},
                      {"shard", label},
                      {"slurm_job_id", env("SLURM_JOB_ID")},
                      {"slurm_array_job_id", env("SLURM_ARRAY_JOB_ID")},
                      {"slurm_array_task_id", env("SLURM_ARRAY_TASK_ID")}};
    writeAtomically(workPath(dir, cell->id, ".started"), who.dump() + "\n");
    const auto start = std::chrono::steady_clock::now();
    json out = runCell(*session, *cell, workPath(dir, cell->id, ".jsonl"));
    json run = who;
    run["seconds"] = secondsSince(start);
    json file = {{"id", cell->id},
                 {"kind", cell->kind},
                 {"model", cell->model},
                 {"task", cell->identity.at("task")},
                 {"setting", toJson(cell->setting)},
                 {"setting_name", variantName(cell->setting)},
                 {"result", out.at("result")},
                 {"run", run}};
    if (out.contains("records")) file["records"] = out.at("records");
    writeAtomically(cellPath(dir, cell->id), file.dump() + "\n");
    std::error_code ignored;
    fs::remove(workPath(dir, cell->id, ".jsonl"), ignored);
    fs::remove(workPath(dir, cell->id, ".started"), ignored);
    ++summary.computed;
    char line[160];
    std::snprintf(line, sizeof line, "%.3f s", run["seconds"].get<double>());
    log << "cell " << cell->id << " (" << cell->kind << ", " << variantName(cell->setting)
        << "): " << line << std::endl;
    if (options.pauseAfterCell > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(options.pauseAfterCell));
    }
  }
  log << "shard " << label << ": computed " << summary.computed << ", skipped " << summary.skipped
      << " finished, of " << summary.cells << " cells" << std::endl;
  return summary;
}

json storedPlan(const std::string& dir) {
  const fs::path path = fs::path(dir) / "plan.json";
  require(fs::exists(path), dir +
                                " holds no sweep (no plan.json); give the --out folder of a "
                                "sweep run or submit");
  try {
    std::ifstream in(path);
    json stored = json::parse(in);
    stored.at("cells").at(0).at("id");
    return stored;
  } catch (const json::exception&) {
    throw KvsError(path.string() + " is damaged; run the sweep again into another folder");
  }
}

void printStatus(const std::string& dir, int n, std::ostream& out) {
  const json stored = storedPlan(dir);
  if (n <= 0) {
    n = 1;
    std::ifstream in(fs::path(dir) / "submit.json");
    if (in.good()) {
      try {
        n = json::parse(in).at("array").get<int>();
      } catch (const json::exception&) {
      }
    }
  }
  std::vector<double> costs;
  for (const json& c : stored.at("cells")) costs.push_back(c.at("cost").get<double>());
  const std::vector<int> shard = dealByCost(costs, n);
  std::vector<int> done(n), started(n), missing(n);
  std::map<std::string, std::pair<int, double>> perKind;  // kind -> (cells, seconds)
  for (size_t i = 0; i < costs.size(); ++i) {
    const json& c = stored.at("cells")[i];
    const std::string id = c.at("id");
    if (const auto cell = readCell(dir, id)) {
      ++done[shard[i]];
      auto& k = perKind[c.at("kind")];
      ++k.first;
      k.second += cell->at("run").value("seconds", 0.0);
    } else if (fs::exists(workPath(dir, id, ".started"))) {
      ++started[shard[i]];
    } else {
      ++missing[shard[i]];
    }
  }
  out << "sweep '" << stored.at("name").get<std::string>() << "' in " << dir << ": " << costs.size()
      << " cells in " << n << " shard" << (n == 1 ? "" : "s") << "\n";
  int allDone = 0;
  for (int s = 0; s < n; ++s) {
    out << "  shard " << s << "/" << n << ": " << done[s] << " done, " << started[s]
        << " started (running or stopped), " << missing[s] << " missing\n";
    allDone += done[s];
  }
  for (const auto& [kind, k] : perKind) {
    char line[160];
    std::snprintf(line, sizeof line, "  %s: %d cells done, %.3f s per cell\n", kind.c_str(),
                  k.first, k.second / k.first);
    out << line;
  }
  out << (allDone == static_cast<int>(costs.size()) ? "complete: run sweep merge " + dir
                                                    : std::string("not complete"))
      << "\n";
}

}  // namespace kvs::sweep
