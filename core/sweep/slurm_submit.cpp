#include "sweep/slurm_submit.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "sweep/sweep_cell.h"
#include "util/error.h"

namespace kvs::sweep {
namespace fs = std::filesystem;
namespace {

// A job name Slurm shows in squeue: the plan's name with anything odd made '_'.
std::string jobName(const std::string& prefix, const std::string& name) {
  std::string out = prefix;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return out.substr(0, 64);
}

// Lines shared by both scripts: log file, partition, time, memory.
std::string commonDirectives(const SubmitOptions& o, const std::string& log) {
  std::string s;
  // #SBATCH values are read by sbatch, not a shell: double quotes keep spaces together.
  s += "#SBATCH --output=\"" + (fs::path(o.out) / "logs" / log).string() + "\"\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
  return s;
}

void requirePlain(const std::string& value, const std::string& what, bool logPath) {
  require(value.find('\n') == std::string::npos && value.find('"') == std::string::npos,
          what + " '" + value + "' holds a newline or '\"', which an #SBATCH line cannot; " +
              "give a path without them");
  require(!logPath || value.find('%') == std::string::npos,
          what + " '" + value + "' holds '%', which Slurm reads as a file name pattern; " +
              "give an output folder without it");
}

void requireToken(const std::string& value, const std::string& flag) {
  for (char c : value) {
    require(std::isalnum(static_cast<unsigned char>(c)) ||
                std::string("-_:.,+=").find(c) != std::string::npos,
            flag + " '" + value + "' is not a Slurm value; give e.g. --partition gpu, --time " +
                "2:00:00, --mem 32G");
  }
}

// Runs a shell command line; its standard output, or KvsError with everything it printed.
std::string runCapturing(const std::string& command, const std::string& what) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  require(pipe != nullptr, "cannot run " + what);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = ::pclose(pipe);
  require(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          what + " failed: " + (output.empty() ? std::string("no message") : output));
  return output;
}

// `sbatch --parsable` prints "<job id>" or "<job id>;<cluster>".
std::string jobIdOf(const std::string& output, const std::string& what) {
  std::string id = output.substr(0, output.find_first_of(";\n"));
  require(!id.empty() && id.find_first_not_of("0123456789") == std::string::npos,
          what + " printed no job id: " + output);
  return id;
}

}  // namespace

std::string shellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void checkSubmitOptions(const SubmitOptions& o) {
  require(o.array >= 1, "--array must be at least 1 (the number of array tasks)");
  require(o.cpusPerTask >= 1, "--cpus-per-task must be at least 1");
  require(o.gpusPerTask >= 0, "--gpus-per-task cannot be negative");
  requirePlain(o.out, "the output folder", true);
  requirePlain(o.plan, "the plan file", false);
  requirePlain(o.cli, "kvstudio-cli's path", false);
  requireToken(o.partition, "--partition");
  requireToken(o.time, "--time");
  requireToken(o.mem, "--mem");
}

std::string arrayScript(const SubmitOptions& o) {
  std::string s = "#!/bin/bash\n";
  s += "#SBATCH --job-name=" + jobName("kvs-sweep-", o.name) + "\n";
  s += "#SBATCH --array=0-" + std::to_string(o.array - 1) + "\n";
  s += commonDirectives(o, "task_%A_%a.log");
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpusPerTask) + "\n";
  if (o.gpusPerTask > 0) s += "#SBATCH --gpus-per-task=" + std::to_string(o.gpusPerTask) + "\n";
  if (!o.mem.empty()) s += "#SBATCH --mem=" + o.mem + "\n";
  // A preempted or requeued task starts again and skips the cells it had finished.
  s += "#SBATCH --requeue\n";
  s += "# Written by kvstudio-cli sweep submit. Each task runs its shard of the plan's cells\n"
       "# (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT); finished cells are skipped.\n";
  s += "set -euo pipefail\n";
  s += "exec " + shellQuote(o.cli) + " --threads \"${SLURM_CPUS_PER_TASK:-" +
       std::to_string(o.cpusPerTask) + "}\" sweep run " + shellQuote(o.plan) + " --out " +
       shellQuote(o.out) + " --device " + shellQuote(o.device) + "\n";
  return s;
}

std::string mergeScript(const SubmitOptions& o, const std::string& arrayJob) {
  std::string s = "#!/bin/bash\n";
  s += "#SBATCH --job-name=" + jobName("kvs-merge-", o.name) + "\n";
  s += "#SBATCH --dependency=afterok:" + arrayJob + "\n";
  // A failed task makes the dependency unsatisfiable: the merge is cancelled, not left pending.
  s += "#SBATCH --kill-on-invalid-dep=yes\n";
  s += commonDirectives(o, "merge_%j.log");
  s += "#SBATCH --cpus-per-task=1\n";
  s += "# Written by kvstudio-cli sweep submit: merges the cells once every array task ended "
       "well.\n";
  s += "set -euo pipefail\n";
  s += "exec " + shellQuote(o.cli) + " sweep merge " + shellQuote(o.out) + "\n";
  return s;
}

SubmittedJobs submitSweep(const SubmitOptions& o) {
  checkSubmitOptions(o);
  const fs::path scripts = fs::path(o.out) / "slurm";
  fs::create_directories(scripts);
  fs::create_directories(fs::path(o.out) / "logs");
  const std::string arrayPath = (scripts / "array.sbatch").string();
  writeAtomically(arrayPath, arrayScript(o));
  SubmittedJobs jobs;
  jobs.arrayJob =
      jobIdOf(runCapturing("sbatch --parsable " + shellQuote(arrayPath), "sbatch"), "sbatch");
  const std::string mergePath = (scripts / "merge.sbatch").string();
  try {
    writeAtomically(mergePath, mergeScript(o, jobs.arrayJob));
    jobs.mergeJob = jobIdOf(
        runCapturing("sbatch --parsable " + shellQuote(mergePath), "sbatch (merge job)"), "sbatch");
  } catch (const KvsError& e) {
    throw KvsError(std::string(e.what()) + "; the array job " + jobs.arrayJob +
                   " was submitted: run `sweep merge " + o.out + "` when it ends, or scancel " +
                   jobs.arrayJob);
  }
  return jobs;
}

}  // namespace kvs::sweep
