#pragma once
// The compression flags of generate and compare, made from the method registry: one flag per
// parameter spec (compress/compression_method.h), each checked against its spec's range, and a
// given flag that no chosen method reads is an error naming the methods that do.

#include <map>
#include <string>
#include <vector>

#include "compress/compression_params.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace kvs {
class LlamaModel;
}

namespace kvs::cli {

struct CompressionOptions {
  std::string method = "full";
  const CLI::Option* methodOption = nullptr;
  std::map<std::string, std::string> text;            // spec key -> the text given (not switches)
  std::map<std::string, bool> switches;               // spec key -> the flag was given (switches)
  std::map<std::string, const CLI::Option*> options;  // spec key -> its flag

  // Whether the flag of a spec key (or "method") was given.
  bool given(const std::string& key) const;
  // The defaults, the method and every given flag; validated. KvsError names the bad value.
  CompressionParams resolve() const;
  // Refuses a given flag that none of the methods reads under these params, naming the methods
  // that read it or why it has no effect (e.g. --eps with an exact budget).
  void requireUsedBy(const std::vector<std::string>& methods, const CompressionParams& p) const;
};

void addCompressionOptions(CLI::App& app, CompressionOptions& o);

// The methods a grid takes when --methods is not given: every registered method that says so
// (CompressionMethod::comparedByDefault), the full cache first.
std::vector<std::string> comparedByDefault();

// The settings of a --methods x --budgets grid (compare, eval) over the shared flags: one per
// compressing method and budget, each validated for the model; the full cache, every grid's
// reference, is not among them. KvsError for --method, --budget or --budget-tokens (the grid
// takes lists), an unknown method, or a flag that no listed method reads.
std::vector<CompressionParams> settingsGrid(const CompressionOptions& o,
                                            const std::vector<std::string>& methods,
                                            const std::vector<double>& budgets,
                                            const LlamaModel& model, const std::string& command);

}  // namespace kvs::cli
