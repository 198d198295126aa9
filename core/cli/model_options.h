#pragma once
// The flags that choose a model and how it runs, shared by generate, info and compare:
// --model, --dtype, --kv-dtype, --device.

#include <string>

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

  // Parses the names; KvsError naming the bad flag's value (or CUDA being unavailable).
  LoadOptions resolve() const;
};

void addModelOptions(CLI::App& app, ModelOptions& o);

}  // namespace kvs::cli
