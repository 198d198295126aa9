#pragma once
// The compression flags shared by generate (and later compare): one flag per CompressionParams
// field, with the names of kvmerger-spec.md.

#include <string>
#include <vector>

#include "compress/compression_params.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace kvs::cli {

struct CompressionOptions {
  CompressionParams params;
  std::string method = "full", sigmaMode = "fixed", layout = "per-head", gqaReduction = "mean";
  std::string camBase = "h2o", positions = "original";
  bool approximateBudget = false, noValueScaling = false;
  // To tell options given from their defaults.
  const CLI::Option *epsOption = nullptr, *positionsOption = nullptr, *camBaseOption = nullptr,
                    *camWindowOption = nullptr;

  // Parses the names into params and validates; KvsError names the bad flag's value.
  CompressionParams resolve() const;
  // Refuses an option given for methods it does not apply to (e.g. --cam-base without cam).
  void requireUsedBy(const std::vector<Method>& methods) const;
};

void addCompressionOptions(CLI::App& app, CompressionOptions& o);

}  // namespace kvs::cli
