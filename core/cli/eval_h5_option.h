#pragma once
// --h5 FILE of the eval commands: the results also as the HDF5 group /eval/<kind>
// (eval/eval_h5.h), checked before the run so that hours of work never end in a refusal.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace kvs::cli {

struct EvalH5Option {
  std::string path;
  bool force = false;  // replace another run's group (a command with its own --force shares it)
};

// Adds --h5, and --force unless the command has one (forceOption: it, to be shared).
void addEvalH5Option(CLI::App& app, EvalH5Option& o, CLI::Option* forceOption = nullptr);

// Before the run: KvsError when the group could not be written (see checkEvalH5Target).
void checkEvalH5Option(const EvalH5Option& o, const std::string& kind, const std::string& records);

// After it: writes the group when --h5 was given, and says so on stderr.
void writeEvalH5Option(const EvalH5Option& o, const std::string& kind, const std::string& model,
                       const std::string& records, std::vector<nlohmann::json> results);

}  // namespace kvs::cli
