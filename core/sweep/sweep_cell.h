#pragma once
// Running one sweep cell through the evaluation code that the CLI's compare and eval commands use
// (one decode path: compareVariants, runNeedle, runLongBench, perplexityUnderBudget), and the
// output folder's cell store:
//   DIR/plan.json            the plan (its name tells this plan's folder from another's)
//   DIR/cells/<id>.json      a finished cell, written under a temporary name and renamed
//   DIR/work/<id>.jsonl      a needle or LongBench cell's records while it runs (EvalRecords:
//                            a killed task resumes per sample), removed when the cell is written
//   DIR/work/<id>.started    who started the cell (host, pid, Slurm job), removed likewise
//   DIR/logs/                the Slurm tasks' logs

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sweep/sweep_plan.h"

namespace kvs {
class Session;
}

namespace kvs::sweep {

// Runs cell on session's model: {"result": ..., "records": [...]}; workFile holds the records of
// a needle or LongBench cell as they finish (a rerun resumes from it). KvsError from the eval code
// (e.g. a needle length beyond the model's context) names the fix.
nlohmann::json runCell(const Session& session, const SweepCell& cell, const std::string& workFile);

std::string cellPath(const std::string& dir, const std::string& id);
std::string workPath(const std::string& dir, const std::string& id, const char* suffix);

// A finished cell's file, or nothing when it is not there (or cut short: never renamed into
// place, so only a damaged disk gives one; it is then redone).
std::optional<nlohmann::json> readCell(const std::string& dir, const std::string& id);

// Writes text to path under a temporary name in the same folder, synced, then renamed.
void writeAtomically(const std::string& path, const std::string& text);

// Makes DIR (and cells/, work/, logs/) for plan and writes DIR/plan.json. KvsError naming the fix
// when DIR holds another plan's cells (another name), or is not a folder. An edited plan of the
// same name replaces plan.json; its unchanged cells are reused.
void prepareOutDir(const SweepPlan& plan, const std::string& dir);
// The same checks without writing anything (submit --dry-run).
void checkOutDir(const SweepPlan& plan, const std::string& dir);

}  // namespace kvs::sweep
