#include "cli/eval_h5_option.h"

#include <filesystem>
#include <iostream>

#include "cli/validators.h"
#include "eval/eval_h5.h"

namespace kvs::cli {
namespace {

// The records file as the group names its source: absolute, so a rerun from another folder is
// still the same run.
std::string sourceOf(const std::string& records) {
  return records.empty() ? std::string() : std::filesystem::absolute(records).string();
}

}  // namespace

void addEvalH5Option(CLI::App& app, EvalH5Option& o, CLI::Option* forceOption) {
  app.add_option("--h5", o.path,
                 "Also write the results as the HDF5 group /eval/<kind> of this file (created, "
                 "or added to an HDF5 file such as a recording)")
      ->check(nonEmptyPath());
  if (!forceOption) {
    app.add_flag("--force", o.force,
                 "Replace the --h5 file's results of another run (a rerun of the same records "
                 "replaces its own)");
  }
}

void checkEvalH5Option(const EvalH5Option& o, const std::string& kind, const std::string& records) {
  if (!o.path.empty()) eval::checkEvalH5Target(o.path, kind, sourceOf(records), o.force);
}

void writeEvalH5Option(const EvalH5Option& o, const std::string& kind, const std::string& model,
                       const std::string& records, std::vector<nlohmann::json> results) {
  if (o.path.empty()) return;
  eval::EvalResults r;
  r.kind = kind;
  r.model = model;
  r.source = sourceOf(records);
  r.records = std::move(results);
  eval::writeEvalH5(o.path, r, o.force);
  std::cerr << "wrote /eval/" << kind << " of " << o.path << "\n";
}

}  // namespace kvs::cli
