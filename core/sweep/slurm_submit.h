#pragma once
// A sweep as a Slurm job array: one sbatch script runs `kvstudio-cli sweep run` in every array
// task (each takes its shard from SLURM_ARRAY_TASK_ID), a second one merges the cells once every
// task has ended well (--dependency=afterok:<array job>). Both are written to DIR/slurm/ and
// submitted with `sbatch --parsable`; their logs go to DIR/logs/.

#include <string>

namespace kvs::sweep {

struct SubmitOptions {
  std::string plan;  // the plan file (absolute)
  std::string out;   // the output folder (absolute)
  std::string cli;   // the kvstudio-cli that the tasks run (absolute)
  std::string name;  // the plan's name, for the jobs' names
  int array = 0;     // tasks
  int cpusPerTask = 1, gpusPerTask = 0;
  std::string partition, time, mem, device = "cpu";
};

// `text` quoted for the shell: 'text', with each ' written '\''.
std::string shellQuote(const std::string& text);

// The array job's script.
std::string arrayScript(const SubmitOptions& o);
// The merge job's script; arrayJob: the array job's id (a dry run shows a placeholder).
std::string mergeScript(const SubmitOptions& o, const std::string& arrayJob);

// KvsError naming the fix for options that cannot make a working script: no tasks, a path that
// Slurm's #SBATCH lines or its log file patterns cannot hold ('"', a newline, '%').
void checkSubmitOptions(const SubmitOptions& o);

struct SubmittedJobs {
  std::string arrayJob, mergeJob;
};

// Writes both scripts to out/slurm/ and submits them with sbatch (from PATH). KvsError with
// sbatch's own message when it refuses one (the array's id is then named so it can be cancelled).
SubmittedJobs submitSweep(const SubmitOptions& o);

}  // namespace kvs::sweep
