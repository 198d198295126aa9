#pragma once
// The compression flags shared by generate (and later compare): one flag per CompressionParams
// field, with the names of kvmerger-spec.md.

#include <string>

#include "compress/compression_params.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace kvs::cli {

struct CompressionOptions {
  CompressionParams params;
  std::string method = "full", sigmaMode = "fixed", layout = "per-head", gqaReduction = "mean";
  bool approximateBudget = false, noValueScaling = false;
  const CLI::Option* epsOption = nullptr;  // to tell an --eps given from the default

  // Parses the names into params and validates; KvsError names the bad flag's value.
  CompressionParams resolve() const;
};

void addCompressionOptions(CLI::App& app, CompressionOptions& o);

}  // namespace kvs::cli
