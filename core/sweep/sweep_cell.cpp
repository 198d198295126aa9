#include "sweep/sweep_cell.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "eval/longbench_run.h"
#include "eval/needle.h"
#include "eval/perplexity.h"
#include "model/llama_model.h"
#include "session/comparison.h"
#include "session/compression_report.h"
#include "session/session.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::sweep {
namespace fs = std::filesystem;
using json = nlohmann::json;
namespace {

json runCompare(const Session& session, const SweepCell& cell) {
  PromptSpec spec;
  spec.text = cell.task.at("prompt").get<std::string>();
  spec.newTokens = cell.task.at("new_tokens").get<int>();
  spec.sampling.temperature = 0.0f;  // as compare: greedy, every step decoded
  spec.stopAtBosEos = false;
  spec.name = "prompt " + std::to_string(cell.task.at("prompt_index").get<int>() + 1);
  spec.newTokensName = "new_tokens";
  spec.promptFix = "edit the plan's prompts file";
  const GenerationRequest request = session.request(spec);
  std::vector<CompressionParams> variants;
  if (compresses(cell.setting)) variants.push_back(cell.setting);
  const auto outcomes =
      compareVariants(session.model(), request.promptIds, request.steps, variants);
  const VariantOutcome& v = outcomes.back();  // the setting's (the full cache's for "full")
  const int P = static_cast<int>(request.promptIds.size());
  json out = {{"prompt_index", cell.task.at("prompt_index")},
              {"prompt_tokens", P},
              {"steps", request.steps},
              {"generated_token_ids", v.generatedIds},
              {"text", decodeStream(session.tokenizer(), v.generatedIds, P <= 1)}};
  out.update(variantFiguresJson(v));  // the measures compare writes
  return out;
}

eval::EvalRecords openRecords(const std::string& path, const std::string& model) {
  std::vector<std::string> notes;  // a line cut short by a kill is redone: nothing to report
  return eval::EvalRecords::open(path, model, &notes);
}

json runNeedleCell(const Session& session, const SweepCell& cell, const std::string& workFile) {
  eval::NeedleRun run;
  run.lengths = {cell.task.at("length").get<int>()};
  run.depths = cell.task.at("depths").get<std::vector<double>>();
  run.settings = {cell.setting};
  for (const json& n : cell.task.at("needles")) {
    run.needles.push_back({n.at("needle"), n.at("question"), n.at("answer")});
  }
  if (run.needles.empty()) run.needles.push_back(eval::defaultNeedle());
  const std::string haystack = cell.task.at("haystack");
  run.haystack = eval::readHaystack(haystack);
  run.haystackName = fs::path(haystack).filename().string();  // the same on every machine
  run.model = cell.model;
  run.maxNewTokens = cell.task.at("max_new_tokens");
  run.chat = cell.task.at("chat");
  eval::checkNeedleRun(session.model(), session.tokenizer(), run);
  eval::EvalRecords records = openRecords(workFile, cell.model);
  const auto grid = eval::runNeedle(session.model(), session.tokenizer(), run, records, {});
  json cells = json::array();
  for (const eval::NeedleCell& c : grid) {
    cells.push_back({{"setting", c.setting},
                     {"length", c.length},
                     {"depth", c.depth},
                     {"samples", c.samples},
                     {"contains_rate", c.containsRate},
                     {"mean_nll", c.meanNll},
                     {"mean_first_token_rank", c.meanFirstRank}});
  }
  return {{"grid", cells}, {"records", records.records()}};
}

json runLongBenchCell(const Session& session, const SweepCell& cell, const std::string& workFile) {
  const auto tasks = eval::LongBenchTasks::load(eval::findLongBenchDataDir(""));
  eval::LongBenchRun run;
  run.dataDir = cell.task.at("data");
  run.tasks = {cell.task.at("task").get<std::string>()};
  run.settings = {cell.setting};
  run.model = cell.model;
  run.maxLength = cell.task.at("max_length");
  run.limit = cell.task.at("limit");
  run.longbenchE = cell.task.at("longbench_e");
  run.chat = cell.task.at("chat");
  eval::EvalRecords records = openRecords(workFile, cell.model);
  const auto table =
      eval::runLongBench(session.model(), session.tokenizer(), tasks, run, records, {});
  json rows = json::array();
  for (const auto& t : table) {
    rows.push_back(
        {{"task", t.task}, {"setting", t.setting}, {"samples", t.samples}, {"score", t.score}});
  }
  return {{"table", rows}, {"records", records.records()}};
}

json runPerplexityCell(const Session& session, const SweepCell& cell) {
  std::ifstream in(cell.task.at("text").get<std::string>(), std::ios::binary);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  std::vector<int> ids = session.tokenizer().encode(text, true);
  const int context = session.model().config().seqLen;
  const int maxTokens = cell.task.at("max_tokens");
  const int limit = maxTokens > 0 ? std::min(maxTokens, context) : context;
  if (static_cast<int>(ids.size()) > limit) ids.resize(limit);
  std::vector<CompressionParams> settings;
  for (const json& size : cell.task.at("cache_sizes")) {
    CompressionParams p = cell.setting;
    p.budgetTokens = size.get<int>();
    settings.push_back(p);
  }
  const auto curves = eval::perplexityUnderBudget(session.model(), ids, settings);
  json out = {{"tokens", ids.size()}, {"curves", json::array()}};
  for (const auto& c : curves) out["curves"].push_back(json(eval::curveJson(c)));
  return out;
}

}  // namespace

json runCell(const Session& session, const SweepCell& cell, const std::string& workFile) {
  const LlamaModel& model = session.model();
  cell.setting.validateForModel(model.config().nLayers, model.kvDtype() == at::kFloat);
  if (cell.kind == "compare") return {{"result", runCompare(session, cell)}};
  if (cell.kind == "perplexity") return {{"result", runPerplexityCell(session, cell)}};
  json out = cell.kind == "needle" ? runNeedleCell(session, cell, workFile)
                                   : runLongBenchCell(session, cell, workFile);
  json records = std::move(out["records"]);
  out.erase("records");
  return {{"result", out}, {"records", records}};
}

std::string cellPath(const std::string& dir, const std::string& id) {
  return (fs::path(dir) / "cells" / (id + ".json")).string();
}

std::string workPath(const std::string& dir, const std::string& id, const char* suffix) {
  return (fs::path(dir) / "work" / (id + suffix)).string();
}

std::optional<json> readCell(const std::string& dir, const std::string& id) {
  std::ifstream in(cellPath(dir, id), std::ios::binary);
  if (!in.good()) return std::nullopt;
  try {
    json cell = json::parse(in);
    if (cell.value("id", "") == id && cell.contains("result")) return cell;
  } catch (const json::exception&) {
  }
  return std::nullopt;
}

void writeAtomically(const std::string& path, const std::string& text) {
  // Unique per process: two array tasks may write the same plan.json at once.
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  require(fd >= 0, "cannot write " + temporary + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      throw KvsError("cannot write " + temporary + ": " + why + " (is the disk full?)");
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  require(::rename(temporary.c_str(), path.c_str()) == 0,
          "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno));
}

void checkOutDir(const SweepPlan& plan, const std::string& dir) {
  if (!fs::exists(dir)) return;
  require(fs::is_directory(dir), "--out " + dir + " is a file, not a folder; give a folder");
  const fs::path stored = fs::path(dir) / "plan.json";
  if (!fs::exists(stored)) {
    const bool cells =
        fs::exists(fs::path(dir) / "cells") && !fs::is_empty(fs::path(dir) / "cells");
    require(!cells,
            "--out " + dir + " holds sweep cells but no plan.json; give another --out folder");
    return;
  }
  std::string name;
  try {
    std::ifstream in(stored);
    name = json::parse(in).at("name").get<std::string>();
  } catch (const json::exception&) {
    throw KvsError(stored.string() + " is damaged; give another --out folder");
  }
  require(name == plan.name, "--out " + dir + " holds the cells of another plan ('" + name +
                                 "', not '" + plan.name +
                                 "'); give another --out folder, or name the plan '" + name +
                                 "' if it is an edited version of that one");
}

void prepareOutDir(const SweepPlan& plan, const std::string& dir) {
  checkOutDir(plan, dir);
  for (const char* sub : {"cells", "work", "logs"}) fs::create_directories(fs::path(dir) / sub);
  // The expanded cells too, so status and merge need neither the plan's inputs nor the models.
  json cells = json::array();
  for (const SweepCell& c : plan.cells) {
    cells.push_back({{"id", c.id},
                     {"kind", c.kind},
                     {"model", c.model},
                     {"setting_name", variantName(c.setting)},
                     {"setting", toJson(c.setting)},
                     {"task_index", c.taskIndex},
                     {"cost", c.cost},
                     {"task", c.identity.at("task")}});
  }
  const json stored = {
      {"name", plan.name}, {"plan_file", plan.path}, {"plan", plan.json}, {"cells", cells}};
  writeAtomically((fs::path(dir) / "plan.json").string(), stored.dump(1) + "\n");
}

}  // namespace kvs::sweep
