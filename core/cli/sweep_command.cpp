// kvstudio-cli sweep: a plan of models x tasks x compression settings (core/sweep/sweep_plan.h),
// run as cells into an output folder, by hand (`run --shard I/N`) or as a Slurm job array
// (`submit`), resumable cell by cell; `status` and `merge` read the folder back.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/validators.h"
#include "sweep/slurm_submit.h"
#include "sweep/sweep_cell.h"
#include "sweep/sweep_run.h"
#include "util/error.h"

namespace kvs::cli {
Action addSweepCommand(CLI::App& app);  // registered in cli_app.cpp

namespace {
namespace fs = std::filesystem;

struct SweepOptions {
  std::string plan, out, shard, device = "cpu", partition, time, mem;
  int array = 0, gpusPerTask = 0, cpusPerTask = 1, shards = 0;
  bool dryRun = false, partial = false;
};

std::string absolute(const std::string& path) {
  return fs::absolute(path).lexically_normal().string();
}

bool onPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

double pauseAfterCell() {
  const char* text = std::getenv("KVS_SWEEP_CELL_PAUSE");
  return text ? std::atof(text) : 0.0;
}

int runRun(const SweepOptions& o) {
  const sweep::SweepPlan plan = sweep::loadPlan(o.plan);
  const sweep::ShardChoice shard = sweep::chooseShard(o.shard);
  sweep::RunOptions options;
  options.device = o.device;
  options.pauseAfterCell = pauseAfterCell();
  sweep::runSweep(plan, o.out, shard, options, std::cout);
  return 0;
}

int runSubmit(const SweepOptions& o) {
  // Everything is checked before anything is written or submitted.
  const sweep::SweepPlan plan = sweep::loadPlan(o.plan);
  sweep::checkOutDir(plan, o.out);
  require(o.array <= static_cast<int>(plan.cells.size()),
          "--array " + std::to_string(o.array) + " is more tasks than the plan's " +
              std::to_string(plan.cells.size()) + " cells; give at most " +
              std::to_string(plan.cells.size()));
  sweep::SubmitOptions s;
  s.plan = plan.path;
  s.out = absolute(o.out);
  s.cli = fs::read_symlink("/proc/self/exe").string();
  s.name = plan.name;
  s.array = o.array;
  s.cpusPerTask = o.cpusPerTask;
  s.gpusPerTask = o.gpusPerTask;
  s.partition = o.partition;
  s.time = o.time;
  s.mem = o.mem;
  s.device = o.device;
  sweep::checkSubmitOptions(s);
  if (o.dryRun) {
    std::cout << "# " << plan.cells.size() << " cells in " << o.array << " array tasks\n"
              << "# " << (fs::path(s.out) / "slurm" / "array.sbatch").string() << ":\n"
              << sweep::arrayScript(s) << "\n# "
              << (fs::path(s.out) / "slurm" / "merge.sbatch").string() << ":\n"
              << sweep::mergeScript(s, "<array job id>") << "\n# submitted with: sbatch --parsable "
              << "array.sbatch, then sbatch --parsable merge.sbatch\n";
    return 0;
  }
  require(onPath("sbatch"),
          "sbatch is not on PATH: submit from a Slurm login node, or run the "
          "shards by hand with `sweep run PLAN --out DIR --shard I/N`");
  sweep::prepareOutDir(plan, s.out);
  const sweep::SubmittedJobs jobs = sweep::submitSweep(s);
  const nlohmann::json record = {{"array", o.array},
                                 {"array_job", jobs.arrayJob},
                                 {"merge_job", jobs.mergeJob},
                                 {"partition", o.partition},
                                 {"gpus_per_task", o.gpusPerTask},
                                 {"cpus_per_task", o.cpusPerTask},
                                 {"time", o.time},
                                 {"mem", o.mem}};
  sweep::writeAtomically((fs::path(s.out) / "submit.json").string(), record.dump(2) + "\n");
  std::cout << "array job " << jobs.arrayJob << " (" << o.array << " tasks, " << plan.cells.size()
            << " cells)\nmerge job " << jobs.mergeJob << " (after " << jobs.arrayJob
            << " ends well)\nlogs: " << (fs::path(s.out) / "logs").string()
            << "\nprogress: kvstudio-cli sweep status " << sweep::shellQuote(s.out) << "\n";
  return 0;
}

int runMerge(const SweepOptions& o) {
  const sweep::MergeSummary m = sweep::mergeSweep(o.out, o.partial);
  if (m.missing > 0) {
    std::cerr << "note: " << m.missing << " of " << m.cells
              << " cells are missing (--partial); results.json lists them\n";
  }
  std::cout << "merged " << (m.cells - m.missing) << " of " << m.cells << " cells\n";
  for (const std::string& f : m.files) std::cout << "  " << f << "\n";
  std::cout << "results digest (timings left out): " << m.digest << "\n";
  return 0;
}

}  // namespace

Action addSweepCommand(CLI::App& app) {
  app.require_subcommand(1);
  auto o = std::make_shared<SweepOptions>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run a plan's cells (one shard with --shard I/N, or a Slurm array task's) into "
      "--out; finished cells are skipped, so a rerun resumes");
  run->add_option("plan", o->plan, "The plan file (JSON, see data/sweeps/README.md)")
      ->required()
      ->check(nonEmptyPath());
  run->add_option("--out", o->out, "The output folder")->required()->check(nonEmptyPath());
  run->add_option("--shard", o->shard,
                  "I/N: run shard I (from 0) of N (default: SLURM_ARRAY_TASK_ID's in an array "
                  "task, else every cell)");
  run->add_option("--device", o->device, "cpu or cuda");
  CLI::App* submit = app.add_subcommand(
      "submit", "Submit a plan as a Slurm job array and a merge job that runs after it");
  submit->add_option("plan", o->plan, "The plan file")->required()->check(nonEmptyPath());
  submit->add_option("--out", o->out, "The output folder (also the logs')")
      ->required()
      ->check(nonEmptyPath());
  submit->add_option("--array", o->array, "Array tasks (shards)")
      ->required()
      ->check(positiveWhole());
  submit->add_option("--partition", o->partition, "Slurm partition (default: the cluster's)");
  submit->add_option("--gpus-per-task", o->gpusPerTask, "GPUs per array task (default: none)")
      ->check(nonNegativeWhole());
  submit->add_option("--cpus-per-task", o->cpusPerTask, "CPUs per array task (default: 1)")
      ->check(positiveWhole());
  submit->add_option("--time", o->time, "Time limit per task, e.g. 2:00:00");
  submit->add_option("--mem", o->mem, "Memory per task, e.g. 32G");
  submit->add_option("--device", o->device, "cpu or cuda (the tasks' device)");
  submit->add_flag("--dry-run", o->dryRun, "Print the scripts; submit nothing");
  CLI::App* status =
      app.add_subcommand("status", "Cells done, started and missing per shard of an output folder");
  status->add_option("dir", o->out, "The output folder")->required()->check(nonEmptyPath());
  status
      ->add_option("--shards", o->shards,
                   "Count the cells per shard of N (default: the submitted array's)")
      ->check(positiveWhole());
  CLI::App* merge = app.add_subcommand(
      "merge", "Merge every cell into DIR/merged/ (results.json, records, results.h5)");
  merge->add_option("dir", o->out, "The output folder")->required()->check(nonEmptyPath());
  merge->add_flag("--partial", o->partial, "Merge even when cells are missing (listed)");
  return [=]() -> int {
    if (run->parsed()) return runRun(*o);
    if (submit->parsed()) return runSubmit(*o);
    if (status->parsed()) {
      sweep::printStatus(o->out, o->shards, std::cout);
      return 0;
    }
    if (merge->parsed()) return runMerge(*o);
    throw KvsError("sweep needs a subcommand: run, submit, status or merge (see --help)");
  };
}

}  // namespace kvs::cli
