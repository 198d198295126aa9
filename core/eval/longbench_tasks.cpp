#include "eval/longbench_tasks.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"

#ifndef KVS_LONGBENCH_DEFAULT_DIR
#define KVS_LONGBENCH_DEFAULT_DIR "data/longbench"
#endif

namespace kvs::eval {
namespace {

// eval.py's scorer: `if dataset in ["trec", "triviaqa", "samsum", "lsht"]` (few-shot tasks).
const std::vector<std::string> kFirstLineTasks = {"trec", "triviaqa", "samsum", "lsht"};

// LongBench's Chinese tasks. Three need jieba's word segmentation (their metrics are refused in
// longbench_metrics.cpp); lsht and passage_retrieval_zh would not, but the evaluation runs
// English tasks only for now (issue 13), so they are refused alike, with the reason.
const std::vector<std::string> kChineseTasks = {"multifieldqa_zh", "dureader", "vcsum", "lsht",
                                                "passage_retrieval_zh"};

const char* const kPromptFile = "dataset2prompt.json";
const char* const kMaxLengthFile = "dataset2maxlen.json";
const char* const kMetricFile = "dataset2metric.json";

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string fixFor(const LongBenchDataDir& dir) {
  return "the files ship with KV Studio in data/longbench (restore them with git, or point " +
         std::string("--longbench-dir or ") + kLongBenchDirVariable +
         " at that folder); this folder was chosen by " + dir.chosenBy;
}

nlohmann::ordered_json readObject(const LongBenchDataDir& dir, const char* name) {
  const std::string path = (std::filesystem::path(dir.path) / name).string();
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) {
    std::error_code ec;
    const bool folder = std::filesystem::is_directory(dir.path, ec);
    throw KvsError("LongBench's task table is incomplete: " + path + " is missing" +
                   (folder ? "" : " (the folder " + dir.path + " does not exist)") + "; " +
                   fixFor(dir));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::ordered_json json;
  try {
    json = nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw KvsError(path + " is not valid JSON (" + e.what() + "); " + fixFor(dir));
  }
  require(json.is_object(),
          path + " should hold one JSON object, task name to value; " + fixFor(dir));
  return json;
}

std::string typeError(const LongBenchDataDir& dir, const char* file, const std::string& task,
                      const char* wanted) {
  return (std::filesystem::path(dir.path) / file).string() + ": the value of \"" + task +
         "\" should be " + wanted + "; " + fixFor(dir);
}

// Why a task is refused, before the list of the tasks that can be scored is appended.
std::string refusalOf(const std::string& task, LongBenchMetric metric) {
  const std::string metricWhy = metricRefusal(metric);
  if (!contains(kChineseTasks, task)) return metricWhy;
  const bool needsJieba = metric == LongBenchMetric::kQaF1Zh || metric == LongBenchMetric::kRougeZh;
  return "it is one of LongBench's Chinese tasks, which KV Studio leaves out for now" +
         (needsJieba ? " (" + metricWhy + ")" : std::string());
}

}  // namespace

LongBenchDataDir findLongBenchDataDir(const std::string& option) {
  if (!option.empty()) return {option, "--longbench-dir"};
  if (const char* set = std::getenv(kLongBenchDirVariable); set && *set) {
    return {set, std::string("$") + kLongBenchDirVariable};
  }
  return {KVS_LONGBENCH_DEFAULT_DIR, "the default, the checkout KV Studio was built from"};
}

LongBenchTasks LongBenchTasks::load(const LongBenchDataDir& dir) {
  const nlohmann::ordered_json metrics = readObject(dir, kMetricFile);
  const nlohmann::ordered_json prompts = readObject(dir, kPromptFile);
  const nlohmann::ordered_json maxLengths = readObject(dir, kMaxLengthFile);
  LongBenchTasks table;
  for (const auto& [name, metricJson] : metrics.items()) {
    LongBenchTask task;
    task.name = name;
    require(metricJson.is_string(), typeError(dir, kMetricFile, name, "a metric's name"));
    const std::optional<LongBenchMetric> metric = metricFromName(metricJson.get<std::string>());
    require(metric.has_value(), typeError(dir, kMetricFile, name,
                                          "one of metrics.py's functions, e.g. \"qa_f1_score\""));
    task.metric = *metric;
    require(prompts.contains(name), (std::filesystem::path(dir.path) / kPromptFile).string() +
                                        " has no prompt for task \"" + name + "\"; " + fixFor(dir));
    require(prompts[name].is_string(), typeError(dir, kPromptFile, name, "a prompt template"));
    task.promptTemplate = prompts[name].get<std::string>();
    require(maxLengths.contains(name), (std::filesystem::path(dir.path) / kMaxLengthFile).string() +
                                           " has no length for task \"" + name + "\"; " +
                                           fixFor(dir));
    const auto& maxLength = maxLengths[name];
    require(maxLength.is_number_integer() && maxLength.get<long long>() > 0 &&
                maxLength.get<long long>() < 1000000,
            typeError(dir, kMaxLengthFile, name, "a whole number of tokens"));
    task.maxNewTokens = maxLength.get<int>();
    task.firstLineOnly = contains(kFirstLineTasks, name);
    task.refusal = refusalOf(name, task.metric);
    table.tasks_.push_back(std::move(task));
  }
  require(!table.tasks_.empty(), (std::filesystem::path(dir.path) / kMetricFile).string() +
                                     " names no task; " + fixFor(dir));
  std::string scorable;
  for (const LongBenchTask& task : table.tasks_) {
    if (task.refusal.empty()) scorable += (scorable.empty() ? "" : ", ") + task.name;
  }
  for (LongBenchTask& task : table.tasks_) {
    if (!task.refusal.empty()) task.refusal += "; the tasks scored here are " + scorable;
  }
  return table;
}

const LongBenchTask& LongBenchTasks::find(const std::string& name) const {
  for (const LongBenchTask& task : tasks_) {
    if (task.name == name) return task;
  }
  std::string known;
  for (const LongBenchTask& task : tasks_) known += (known.empty() ? "" : ", ") + task.name;
  std::string hint;
  if (name.size() > 2 && name.compare(name.size() - 2, 2, "_e") == 0) {
    hint = " (LongBench-E's tasks have the plain names: --task " + name.substr(0, name.size() - 2) +
           " --longbench-e)";
  }
  throw KvsError("unknown LongBench task '" + name + "'" + hint + "; the tasks are " + known);
}

const LongBenchTask& LongBenchTasks::scorable(const std::string& name) const {
  const LongBenchTask& task = find(name);
  require(task.refusal.empty(), "cannot score " + name + ": " + task.refusal);
  return task;
}

}  // namespace kvs::eval
