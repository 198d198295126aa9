// Sweep plans without a model or a cluster: expansion into cells with stable ids, dealing into
// shards, the shard from a Slurm array task's environment, the --dry-run scripts, and bad plans
// refused before anything is written or submitted.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "model/cli_runner.h"
#include "sweep/slurm_submit.h"
#include "sweep/sweep_plan.h"
#include "sweep/sweep_run.h"
#include "test_util.h"

namespace kvs::test {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// A plan folder: a model file (never loaded here), a prompts file, a text.
struct PlanDir {
  TempDir dir;
  PlanDir() {
    writeFile(dir.file("model.bin"), "not loaded by these tests");
    writeFile(dir.file("prompts.txt"), "# two prompts\nOnce upon a time\nThe little dog\n");
    writeFile(dir.file("text.txt"), "A long text.\n");
  }
  json plan() const {
    return {{"name", "unit"},
            {"models", {"model.bin"}},
            {"tasks",
             {{{"kind", "compare"}, {"prompts", "prompts.txt"}, {"new_tokens", 8}},
              {{"kind", "needle"}, {"lengths", {64, 128}}, {"depths", {0, 1}}},
              {{"kind", "perplexity"}, {"text", "text.txt"}, {"cache_sizes", {16, 32}}}}},
            {"settings",
             {{{"method", "full"}},
              {{"method", {"h2o", "kvmerger"}}, {"sweep", {"budget=0.3:0.7:3"}}}}}};
  }
  std::string write(const json& plan, const std::string& name = "plan.json") const {
    writeFile(dir.file(name), plan.dump(1));
    return dir.file(name);
  }
};

TEST(SweepPlan, ExpandsIntoCellsWithStableIds) {
  PlanDir d;
  const sweep::SweepPlan a = sweep::loadPlan(d.write(d.plan()));
  // compare: 2 prompts x 7 settings; needle: 2 lengths x 7; perplexity: 1 x 6 (h2o and kvmerger,
  // the budget fraction replaced by the cache sizes: 2 cells), full being every cell's reference.
  EXPECT_EQ(a.cells.size(), 2u * 7 + 2u * 7 + 2u);
  std::set<std::string> ids;
  for (const auto& c : a.cells) ids.insert(c.id);
  EXPECT_EQ(ids.size(), a.cells.size());
  const sweep::SweepPlan again = sweep::loadPlan(d.write(d.plan(), "copy.json"));
  for (size_t i = 0; i < a.cells.size(); ++i) EXPECT_EQ(a.cells[i].id, again.cells[i].id);
  // An edited plan (one more budget) keeps every cell it had.
  json edited = d.plan();
  edited["settings"][1]["sweep"] = {"budget=0.3,0.5,0.7,0.9"};
  const sweep::SweepPlan b = sweep::loadPlan(d.write(edited, "edited.json"));
  std::set<std::string> after;
  for (const auto& c : b.cells) after.insert(c.id);
  for (const std::string& id : ids) EXPECT_TRUE(after.count(id)) << id;
  EXPECT_GT(after.size(), ids.size());
}

TEST(SweepPlan, ShardsCoverEveryCellOnceAndBalance) {
  PlanDir d;
  const sweep::SweepPlan plan = sweep::loadPlan(d.write(d.plan()));
  for (int n : {1, 3, 4, 7}) {
    std::multiset<std::string> seen;
    std::vector<double> load;
    for (int i = 0; i < n; ++i) {
      double cost = 0;
      for (const auto* c : sweep::shardCells(plan, i, n)) {
        seen.insert(c->id);
        cost += c->cost;
      }
      load.push_back(cost);
    }
    EXPECT_EQ(seen.size(), plan.cells.size());
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), plan.cells.size());
    double largest = 0;
    for (const auto& c : plan.cells) largest = std::max(largest, c.cost);
    const auto [lo, hi] = std::minmax_element(load.begin(), load.end());
    EXPECT_LE(*hi - *lo, largest) << n << " shards";  // greedy dealing's bound
  }
}

TEST(SweepPlan, ShardFromSlurmArrayEnvironment) {
  setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
  setenv("SLURM_ARRAY_TASK_MAX", "8", 1);
  unsetenv("SLURM_ARRAY_TASK_COUNT");
  sweep::ShardChoice c = sweep::chooseShard("");
  EXPECT_EQ(c.index, 2);
  EXPECT_EQ(c.count, 4);
  setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  EXPECT_EQ(sweep::chooseShard("").count, 4);
  c = sweep::chooseShard("1/3");  // --shard wins
  EXPECT_EQ(c.index, 1);
  EXPECT_EQ(c.count, 3);
  setenv("SLURM_ARRAY_TASK_ID", "9", 1);
  EXPECT_NE(errorOf([] { sweep::chooseShard(""); }).find("outside its array"), std::string::npos);
  for (const char* v : {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                        "SLURM_ARRAY_TASK_COUNT"}) {
    unsetenv(v);
  }
  EXPECT_EQ(sweep::chooseShard("").count, 1);
  EXPECT_NE(errorOf([] { sweep::chooseShard("3/3"); }).find("0 to N-1"), std::string::npos);
  EXPECT_NE(errorOf([] { sweep::chooseShard("2"); }).find("I/N"), std::string::npos);
}

TEST(SweepSubmit, DryRunPrintsBothScriptsAndWritesNothing) {
  PlanDir d;
  const std::string plan = d.write(d.plan());
  const std::string out = d.dir.file("out dir/it's");
  const CliRun r =
      runCliCommand("sweep submit " + sweep::shellQuote(plan) + " --out " + sweep::shellQuote(out) +
                    " --array 3 --partition gpu --gpus-per-task 2 --time 1:00:00 "
                    "--mem 8G --cpus-per-task 4 --dry-run");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const std::string& line :
       {std::string("#SBATCH --array=0-2\n"), std::string("#SBATCH --partition=gpu\n"),
        std::string("#SBATCH --gpus-per-task=2\n"), std::string("#SBATCH --time=1:00:00\n"),
        std::string("#SBATCH --mem=8G\n"), std::string("#SBATCH --cpus-per-task=4\n"),
        std::string("#SBATCH --dependency=afterok:<array job id>\n"),
        std::string("#SBATCH --kill-on-invalid-dep=yes\n"),
        "#SBATCH --output=\"" + out + "/logs/task_%A_%a.log\"\n",
        "#SBATCH --output=\"" + out + "/logs/merge_%j.log\"\n",
        " sweep run " + sweep::shellQuote(plan) + " --out " + sweep::shellQuote(out),
        " sweep merge " + sweep::shellQuote(out) + "\n"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("--threads \"${SLURM_CPUS_PER_TASK:-4}\""), std::string::npos);
  EXPECT_FALSE(fs::exists(d.dir.file("out dir")));
  // The quoting survives a shell: the path comes back as it was.
  std::FILE* shell = ::popen(("printf %s " + sweep::shellQuote(out)).c_str(), "r");
  ASSERT_NE(shell, nullptr);
  char echoed[4096] = {0};
  const size_t n = std::fread(echoed, 1, sizeof echoed - 1, shell);
  ::pclose(shell);
  EXPECT_EQ(std::string(echoed, n), out);
  // Slurm's own file patterns would rename the logs: refused.
  const CliRun percent =
      runCliCommand("sweep submit " + sweep::shellQuote(plan) + " --out " +
                    sweep::shellQuote(d.dir.file("a%jb")) + " --array 2 --dry-run");
  EXPECT_EQ(percent.exitCode, 2);
  EXPECT_NE(percent.err.find("file name pattern"), std::string::npos) << percent.err;
  const CliRun tooMany = runCliCommand("sweep submit " + sweep::shellQuote(plan) + " --out " +
                                       sweep::shellQuote(out) + " --array 999 --dry-run");
  EXPECT_EQ(tooMany.exitCode, 2);
  EXPECT_NE(tooMany.err.find("give at most 30"), std::string::npos) << tooMany.err;
}

// Each bad plan is refused by submit (even a real one: nothing reaches sbatch) and by run.
void expectRefused(const PlanDir& d, const json& plan, const std::string& message,
                   const std::string& out = "") {
  const std::string path = d.write(plan, "bad.json");
  const std::string dir = out.empty() ? d.dir.file("bad-out") : out;
  for (const std::string& command : {std::string("sweep submit "), std::string("sweep run ")}) {
    const CliRun r =
        runCliCommand(command + sweep::shellQuote(path) + " --out " + sweep::shellQuote(dir) +
                          (command == "sweep submit " ? " --array 2" : ""),
                      "export PATH=/nonexistent:$PATH;");
    EXPECT_EQ(r.exitCode, 2) << command << plan.dump();
    EXPECT_NE(r.err.find(message), std::string::npos) << command << r.err;
    if (out.empty()) EXPECT_FALSE(fs::exists(dir)) << command;
  }
}

TEST(SweepSubmit, BadPlansAreRefusedBeforeAnything) {
  PlanDir d;
  json p = d.plan();
  p["settings"][1]["method"] = {"h2o", "kvmergr"};
  expectRefused(d, p, "settings[1]: unknown method 'kvmergr'");
  p = d.plan();
  p["settings"] = json::array();
  expectRefused(d, p, "\"settings\" is empty");
  p = d.plan();
  p["settings"][1]["sweep"] = json::array();
  expectRefused(d, p, "\"sweep\" is empty");
  p = d.plan();
  p["settings"][1]["sweep"] = {"budget=0.3:0.7:1"};
  expectRefused(d, p, "from 2 to");
  p = d.plan();
  p["settings"][1]["sweep"] = {"sigma=1,5"};  // h2o does not read sigma
  expectRefused(d, p, "settings[1]");
  p = d.plan();
  p["tasks"][1]["lengths"] = json::array();
  expectRefused(d, p, "\"lengths\" is empty");
  p = d.plan();
  p["models"] = {"model.bin", "no-such-model.bin"};
  expectRefused(d, p, "no-such-model.bin does not exist on this machine");
  p = d.plan();
  p["tasks"][0]["kind"] = "chat";
  expectRefused(d, p, "unknown kind 'chat'");
  // An output folder that holds another plan's cells.
  const std::string other = d.dir.file("other");
  fs::create_directories(other + "/cells");
  writeFile(other + "/plan.json", json{{"name", "someone else's"}, {"cells", {}}}.dump());
  writeFile(other + "/cells/0123456789abcdef.json", "{}");
  expectRefused(d, d.plan(), "holds the cells of another plan ('someone else's'", other);
  EXPECT_FALSE(fs::exists(other + "/slurm"));
  EXPECT_EQ(readFile(other + "/plan.json").find("unit"), std::string::npos);
}

}  // namespace
}  // namespace kvs::test
