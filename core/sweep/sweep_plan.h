#pragma once
// A sweep plan: models x task shards x compression settings, read from a JSON file
// (data/sweeps/README.md documents it) and expanded into cells, each with an id derived from its
// content, so the same plan always gives the same cells and an edited plan reuses the cells that
// did not change. Nothing here loads a model: a plan is checked on the machine that submits it.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/compression_params.h"

namespace kvs::sweep {

// One unit of work: one model, one shard of one task, one setting.
struct SweepCell {
  std::string id;           // 16 hex digits of the SHA-256 of `identity`
  nlohmann::json identity;  // {"model", "task", "setting"}: what the id is made from
  std::string model;        // as the plan writes it (records name it so)
  std::string modelPath;    // resolved against the plan's folder
  std::string dtype = "auto", kvDtype = "auto",
              tokenizer;  // the model entry's (tokenizer resolved)
  std::string kind;       // compare, needle, perplexity, longbench
  nlohmann::json task;    // the shard: see sweep_plan.cpp's shardsOf (paths resolved)
  CompressionParams setting;
  int taskIndex = 0;  // the plan's task it comes from
  double cost = 1;    // a rough estimate, for dealing cells out to shards
};

struct SweepPlan {
  std::string name;
  std::string path;              // the plan file
  std::string dir;               // its folder, which relative paths start from
  nlohmann::json json;           // the file's content
  std::vector<SweepCell> cells;  // plan order: model, task, shard, setting
};

// Reads and expands a plan. KvsError naming the file, the entry and the fix for: not JSON, no
// name, no models / tasks / settings (or an empty list), a model or input file that does not
// exist, an unknown task kind or method, a bad parameter value or sweep, a sweep value that the
// method does not read.
SweepPlan loadPlan(const std::string& path);

// The settings of a plan's "settings" list (exposed for tests): each entry's methods x the
// cartesian product of its sweeps, duplicates dropped, in order.
std::vector<CompressionParams> expandSettings(const nlohmann::json& settings,
                                              const std::string& where);

// Shard i of n: the cells dealt out by their estimated cost (largest first, each to the shard
// with the least so far), so shards take similar time. The same plan and n always deal alike.
std::vector<const SweepCell*> shardCells(const SweepPlan& plan, int i, int n);
std::vector<int> shardOfEachCell(const SweepPlan& plan, int n);
// The same dealing from the cells' costs alone (status reads them from the output folder).
std::vector<int> dealByCost(const std::vector<double>& costs, int n);

// Lower-case hex SHA-256 of text.
std::string sha256Hex(const std::string& text);

// A JSON value with every key that ends in "seconds" or "_s" removed, at any depth: what two runs
// of the same cells must agree on number for number (timings never do).
nlohmann::json withoutTimings(const nlohmann::json& j);

}  // namespace kvs::sweep
