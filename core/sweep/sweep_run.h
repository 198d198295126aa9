#pragma once
// Running a shard of a sweep's cells into an output folder (sweep_cell.h describes its files),
// and reading the folder back: status per shard, and the merged result.

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_plan.h"

namespace kvs::sweep {

struct ShardChoice {
  int index = 0, count = 1;
  std::string source;  // "--shard", "SLURM_ARRAY_TASK_ID" or "" (all cells)
};

// --shard "I/N" when given (I from 0), else a Slurm array task's SLURM_ARRAY_TASK_ID less
// SLURM_ARRAY_TASK_MIN (0 when unset) of SLURM_ARRAY_TASK_COUNT (or MAX - MIN + 1), else all
// cells. KvsError naming the fix for a malformed or out-of-range shard.
ShardChoice chooseShard(const std::string& option);

struct RunOptions {
  std::string device = "cpu";
  double pauseAfterCell = 0;  // seconds (KVS_SWEEP_CELL_PAUSE): a test's window to kill a task
};

struct RunSummary {
  int cells = 0, computed = 0, skipped = 0;
};

// Runs the shard's cells that are not finished in dir, writing each as it finishes; log gets one
// line per cell and a last line "shard I/N: computed C, skipped S finished, of T cells".
RunSummary runSweep(const SweepPlan& plan, const std::string& dir, const ShardChoice& shard,
                    const RunOptions& options, std::ostream& log);

// The cells dir's plan.json lists (what prepareOutDir stored): id, kind, model, setting_name,
// cost, task. KvsError when dir holds no sweep.
nlohmann::json storedPlan(const std::string& dir);

// Per shard of n (n 0: the count `sweep submit` stored, else 1): done, started (running, or
// stopped mid-way), missing; and the mean seconds of a finished cell per task kind.
void printStatus(const std::string& dir, int n, std::ostream& out);

struct MergeSummary {
  int cells = 0, missing = 0;
  std::string results;             // DIR/merged/results.json
  std::string digest;              // SHA-256 of the results without their timings
  std::vector<std::string> files;  // every file written
};

// Merges every finished cell of dir's plan into DIR/merged/: results.json (the plan, every cell
// in plan order, the summary tables) and per model <label>/longbench.jsonl, needle.jsonl,
// perplexity.json and results.h5 (their /eval/<kind> groups), which the app's Evaluation panel
// opens. KvsError naming the missing cells unless partial (they are then listed in "missing").
MergeSummary mergeSweep(const std::string& dir, bool partial);

}  // namespace kvs::sweep
