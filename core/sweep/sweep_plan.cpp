#include "sweep/sweep_plan.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "compress/compression_method.h"
#include "compress/param_sweep.h"
#include "eval/longbench_tasks.h"
#include "eval/needle_prompt.h"
#include "io/file_digest.h"
#include "model/model_loader.h"
#include "util/error.h"

namespace kvs::sweep {
namespace fs = std::filesystem;
namespace {

using json = nlohmann::json;

const char* const kKinds = "compare, needle, perplexity or longbench";

std::string resolve(const std::string& dir, const std::string& path) {
  return fs::path(path).is_absolute() ? path : (fs::path(dir) / path).lexically_normal().string();
}

// A required, non-empty list.
const json& listOf(const json& object, const std::string& key, const std::string& where) {
  require(object.contains(key), where + " has no \"" + key + "\"; add a non-empty list");
  const json& list = object.at(key);
  require(list.is_array() && !list.empty(),
          where + "'s \"" + key + "\" is empty or not a list; give at least one entry");
  return list;
}

std::string existingFile(const std::string& dir, const json& value, const std::string& where) {
  require(value.is_string() && !value.get<std::string>().empty(),
          where + " must be a file's path (a string)");
  const std::string path = resolve(dir, value.get<std::string>());
  require(fs::exists(path), where + ": " + path +
                                " does not exist on this machine; give a path relative to the "
                                "plan's folder or an absolute one");
  return path;
}

template <typename T>
T valueOr(const json& object, const std::string& key, T fallback, const std::string& where) {
  if (!object.contains(key)) return fallback;
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    throw KvsError(where + "'s \"" + key + "\" has the wrong type (" + object.at(key).dump() + ")");
  }
}

std::vector<std::string> readPrompts(const std::string& path, const std::string& where) {
  std::ifstream in(path);
  require(in.good(), where + ": cannot read " + path);
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    prompts.push_back(line);
  }
  require(!prompts.empty(), where + ": " + path + " holds no prompt (one per line)");
  return prompts;
}

struct Shard {
  json task;    // what the cell id is made from (contents, not paths)
  json inputs;  // resolved paths the run reads
  // Estimated work in decode steps: a batched prefill costs about an eighth of a step per token
  // (README, Performance); compare decodes each token three times (reference, free, forced).
  double cost;
};

// A plan task's shards. Paths are in `inputs`; the id-making `task` holds contents and digests.
std::vector<Shard> shardsOf(const json& t, const std::string& dir, const std::string& where) {
  require(t.is_object() && t.contains("kind") && t.at("kind").is_string(),
          where + " needs a \"kind\": " + kKinds);
  const std::string kind = t.at("kind").get<std::string>();
  std::vector<Shard> out;
  if (kind == "compare") {
    const std::string file = existingFile(dir, t.value("prompts", json()), where + ".prompts");
    auto prompts = readPrompts(file, where);
    const int limit = valueOr(t, "limit", 0, where);
    if (limit > 0 && limit < int(prompts.size())) prompts.resize(limit);
    const int newTokens = valueOr(t, "new_tokens", 64, where);
    require(newTokens > 0, where + "'s \"new_tokens\" must be positive");
    for (size_t i = 0; i < prompts.size(); ++i) {
      out.push_back({{{"kind", kind}, {"prompt", prompts[i]}, {"new_tokens", newTokens}},
                     {{"prompt_index", i}},
                     prompts[i].size() / 32.0 + 3.0 * newTokens});
    }
  } else if (kind == "needle") {
    const std::string haystack = t.contains("haystack")
                                     ? existingFile(dir, t.at("haystack"), where + ".haystack")
                                     : eval::defaultHaystackPath();
    json needles = json::array();
    if (t.contains("needles")) {
      for (const json& n : listOf(t, "needles", where)) {
        eval::Needle needle{n.value("needle", ""), n.value("question", ""), n.value("answer", "")};
        eval::requireNeedle(needle, where + ".needles");
        needles.push_back(
            {{"needle", needle.needle}, {"question", needle.question}, {"answer", needle.answer}});
      }
    }
    const json depths = t.value("depths", json{0, 0.25, 0.5, 0.75, 1});
    require(depths.is_array() && !depths.empty(), where + "'s \"depths\" is empty");
    const int maxNew = valueOr(t, "max_new_tokens", 16, where);
    for (const json& length : listOf(t, "lengths", where)) {
      require(length.is_number_integer() && length.get<int>() > 0,
              where + "'s \"lengths\" must be positive whole numbers");
      out.push_back({{{"kind", kind},
                      {"length", length},
                      {"depths", depths},
                      {"haystack_sha256", sha256OfFile(haystack)},
                      {"needles", needles},
                      {"max_new_tokens", maxNew},
                      {"chat", valueOr(t, "chat", false, where)}},
                     {{"haystack", haystack}},
                     depths.size() * (length.get<double>() / 8 + 2.0 * maxNew)});
    }
  } else if (kind == "perplexity") {
    const std::string text = existingFile(dir, t.value("text", json()), where + ".text");
    const json sizes = t.value("cache_sizes", json{64, 128});
    require(sizes.is_array() && !sizes.empty(), where + "'s \"cache_sizes\" is empty");
    const int maxTokens = valueOr(t, "max_tokens", 0, where);
    out.push_back({{{"kind", kind},
                    {"text_sha256", sha256OfFile(text)},
                    {"max_tokens", maxTokens},
                    {"cache_sizes", sizes}},
                   {{"text", text}},
                   (maxTokens > 0 ? maxTokens : 512.0) * (sizes.size() + 1)});
  } else if (kind == "longbench") {
    const std::string data = existingFile(dir, t.value("data", json()), where + ".data");
    const auto table = eval::LongBenchTasks::load(eval::findLongBenchDataDir(""));
    const bool e = valueOr(t, "longbench_e", false, where);
    const int limit = valueOr(t, "limit", 0, where);
    const int maxLength = valueOr(t, "max_length", 0, where);
    for (const json& name : listOf(t, "tasks", where)) {
      require(name.is_string(), where + "'s \"tasks\" must be LongBench task names");
      table.scorable(name.get<std::string>());  // an unknown one lists the known ones
      const std::string file = existingFile(
          data, json(name.get<std::string>() + (e ? "_e" : "") + ".jsonl"), where + ".data");
      out.push_back(
          {{{"kind", kind},
            {"task", name},
            {"data_sha256", sha256OfFile(file)},
            {"limit", limit},
            {"max_length", maxLength},
            {"chat", valueOr(t, "chat", true, where)},
            {"longbench_e", e}},
           {{"data", data}},
           (limit > 0 ? limit : 100.0) * ((maxLength > 0 ? maxLength : 1000.0) / 8 + 64)});
    }
  } else {
    throw KvsError(where + ": unknown kind '" + kind + "'; use " + kKinds);
  }
  return out;
}

// A perplexity setting is read at every cache size with compression while decoding.
void checkPerplexitySetting(const CompressionParams& p, const json& sizes,
                            const std::string& where) {
  for (const json& size : sizes) {
    require(size.is_number_integer() && size.get<int>() >= 2,
            where + "'s \"cache_sizes\" must be whole numbers of at least 2");
    CompressionParams q = p;
    q.budgetTokens = size.get<int>();
    q.decodeCompression = true;
    try {
      q.validate();
    } catch (const KvsError& e) {
      throw KvsError(where + ": " + variantName(p) + " cannot keep the cache at a fixed size (" +
                     e.what() +
                     "); leave it out of the plan's settings or drop the perplexity task");
    }
  }
}

}  // namespace

std::string sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* const hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::vector<CompressionParams> expandSettings(const json& settings, const std::string& where) {
  require(settings.is_array() && !settings.empty(),
          where +
              ": \"settings\" is empty or not a list; give at least one setting, e.g. "
              "{\"method\": \"full\"}");
  std::vector<CompressionParams> out;
  std::set<std::string> seen;
  for (size_t s = 0; s < settings.size(); ++s) {
    const std::string at = where + ": settings[" + std::to_string(s) + "]";
    const json& entry = settings[s];
    require(entry.is_object() && entry.contains("method"),
            at + " needs a \"method\" (a name or a list of names)");
    json methods = entry.at("method");
    if (!methods.is_array()) methods = json::array({methods});
    require(!methods.empty(), at + "'s \"method\" list is empty; name at least one method");
    std::vector<ParamSweep> sweeps;
    if (entry.contains("sweep")) {
      const json& list = entry.at("sweep");
      require(list.is_array() && !list.empty(),
              at + "'s \"sweep\" is empty; give sweeps such as \"budget=0.1:0.9:9\" or drop it");
      for (const json& text : list) {
        require(text.is_string(), at + "'s \"sweep\" entries are strings like \"sigma=1,5\"");
        try {
          sweeps.push_back(parseParamSweep(text.get<std::string>()));
        } catch (const KvsError& e) {
          throw KvsError(at + ": " + e.what());
        }
      }
    }
    for (const json& method : methods) {
      json fixed = entry;
      fixed.erase("sweep");
      fixed["method"] = method;
      std::vector<CompressionParams> grid;
      try {
        grid.push_back(paramsFromJson(fixed));
        for (const ParamSweep& sweep : sweeps) {
          std::vector<CompressionParams> next;
          for (const CompressionParams& base : grid) {
            for (size_t i = 0; i < sweep.values.size(); ++i) {
              next.push_back(withSweepValue(base, sweep, i));
            }
          }
          grid = std::move(next);
        }
      } catch (const KvsError& e) {
        throw KvsError(at + ": " + e.what());
      }
      for (CompressionParams& p : grid) {
        if (seen.insert(toJson(p).dump()).second) out.push_back(std::move(p));
      }
    }
  }
  return out;
}

SweepPlan loadPlan(const std::string& path) {
  require(fs::is_regular_file(path), "the plan file " + path +
                                         " does not exist; give a plan (JSON, see "
                                         "data/sweeps/README.md)");
  SweepPlan plan;
  plan.path = fs::absolute(path).lexically_normal().string();
  plan.dir = fs::path(plan.path).parent_path().string();
  std::ifstream in(path, std::ios::binary);
  try {
    plan.json = json::parse(in);
  } catch (const json::exception& e) {
    throw KvsError("the plan " + path + " is not JSON (" + e.what() + "); fix the file");
  }
  const std::string where = "the plan " + path;
  require(plan.json.is_object(), where + " must be a JSON object");
  require(plan.json.contains("name") && plan.json.at("name").is_string() &&
              !plan.json.at("name").get<std::string>().empty(),
          where + " has no \"name\"; add one (it tells this plan's output folder from others')");
  plan.name = plan.json.at("name").get<std::string>();
  for (const auto& item : plan.json.items()) {
    const std::string& key = item.key();
    require(key == "name" || key == "models" || key == "tasks" || key == "settings" ||
                key == "description",
            where + ": unknown key \"" + key +
                "\"; a plan has name, description, models, tasks and settings");
  }
  const std::vector<CompressionParams> settings =
      expandSettings(plan.json.value("settings", json()), where);
  const json& tasks = listOf(plan.json, "tasks", where);
  std::vector<std::vector<Shard>> shards;
  for (size_t t = 0; t < tasks.size(); ++t) {
    const std::string at = where + ": tasks[" + std::to_string(t) + "]";
    shards.push_back(shardsOf(tasks[t], plan.dir, at));
    if (tasks[t].at("kind") == "perplexity") {
      for (const CompressionParams& p : settings) {
        if (compresses(p)) checkPerplexitySetting(p, shards.back()[0].task["cache_sizes"], at);
      }
    }
  }
  for (const json& entry : listOf(plan.json, "models", where)) {
    // A path, or {"path", "dtype", "kv_dtype", "tokenizer"}.
    const json model = entry.is_object() ? entry.value("path", json()) : entry;
    const std::string modelPath = existingFile(plan.dir, model, where + ": models");
    const json dtypes = entry.is_object() ? entry : json::object();
    for (const auto& [key, value] : dtypes.items()) {
      require((key == "path" || key == "dtype" || key == "kv_dtype" || key == "tokenizer") &&
                  value.is_string(),
              where + ": models: \"" + key +
                  "\" is not a model's key; a model is a path or {\"path\", \"dtype\", "
                  "\"kv_dtype\", \"tokenizer\"} (strings)");
    }
    const std::string dtype = dtypes.value("dtype", "auto"),
                      kvDtype = dtypes.value("kv_dtype", "auto");
    parseDtype(dtype, where + ": models: dtype");
    parseDtype(kvDtype, where + ": models: kv_dtype");
    const std::string tokenizer =
        dtypes.contains("tokenizer")
            ? existingFile(plan.dir, dtypes.at("tokenizer"), where + ": models: tokenizer")
            : "";
    for (size_t t = 0; t < tasks.size(); ++t) {
      for (const Shard& shard : shards[t]) {
        const std::string kind = shard.task.at("kind");
        std::set<std::string> perplexitySettings;
        for (CompressionParams p : settings) {
          if (kind == "perplexity") {
            // Every perplexity cell reads the full cache as its reference, and its cache sizes
            // replace the budget fraction: settings differing only in that are one cell.
            if (!compresses(p)) continue;
            p.budget = CompressionParams{}.budget;
            if (!perplexitySettings.insert(toJson(p).dump()).second) continue;
          }
          SweepCell cell;
          cell.model = model.get<std::string>();
          cell.modelPath = modelPath;
          cell.dtype = dtype;
          cell.kvDtype = kvDtype;
          cell.tokenizer = tokenizer;
          cell.kind = kind;
          cell.task = shard.task;
          cell.task.update(shard.inputs);
          cell.setting = p;
          cell.taskIndex = static_cast<int>(t);
          cell.cost = shard.cost;
          cell.identity = {{"model", entry}, {"task", shard.task}, {"setting", toJson(p)}};
          cell.id = sha256Hex(cell.identity.dump()).substr(0, 16);
          plan.cells.push_back(std::move(cell));
        }
      }
    }
  }
  require(!plan.cells.empty(), where +
                                   " expands into no cells; a perplexity task needs a "
                                   "compressing setting");
  return plan;
}

std::vector<int> dealByCost(const std::vector<double>& costs, int n) {
  std::vector<size_t> order(costs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(n, 0.0);
  std::vector<int> shard(costs.size(), 0);
  for (size_t c : order) {
    const int least = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    shard[c] = least;
    load[least] += costs[c];
  }
  return shard;
}

std::vector<int> shardOfEachCell(const SweepPlan& plan, int n) {
  std::vector<double> costs;
  for (const SweepCell& c : plan.cells) costs.push_back(c.cost);
  return dealByCost(costs, n);
}

std::vector<const SweepCell*> shardCells(const SweepPlan& plan, int i, int n) {
  const std::vector<int> shard = shardOfEachCell(plan, n);
  std::vector<const SweepCell*> out;
  for (size_t c = 0; c < plan.cells.size(); ++c) {
    if (shard[c] == i) out.push_back(&plan.cells[c]);
  }
  return out;
}

}  // namespace kvs::sweep
