#pragma once
// The flags that choose a model and how it runs, shared by generate, info and compare:
// --model, --dtype, --kv-dtype, --device; and --window-cache, for the commands that report it
// (generate, info).

#include <string>

#include "cache/window_figures.h"
#include "model/model_loader.h"

namespace CLI {
class App;
}

namespace kvs::cli {

struct ModelOptions {
  std::string model;
  std::string dtype = "auto";
  std::string kvDtype = "auto";
  std::string device = "cpu";
  std::string windowCache;  // "trim", "keep", or empty: not given (trim where there is a window)

  // Parses the names; KvsError naming the bad flag's value (or CUDA being unavailable).
  LoadOptions resolve() const;
  // What the cache does outside the model's sliding window; KvsError when --window-cache is
  // given for a model without one (it would change nothing).
  WindowCache resolveWindowCache(const ModelConfig& config) const;
};

void addModelOptions(CLI::App& app, ModelOptions& o);
// --window-cache keep|trim, only for the commands that pass it on and report it.
void addWindowCacheOption(CLI::App& app, ModelOptions& o);

}  // namespace kvs::cli
