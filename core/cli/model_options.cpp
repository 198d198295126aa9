#include "cli/model_options.h"

#include <CLI/CLI.hpp>

#include "cli/validators.h"

namespace kvs::cli {

void addModelOptions(CLI::App& app, ModelOptions& o) {
  const std::string group = "Model";
  app.add_option("--model", o.model,
                 "llama2.c checkpoint (.bin) or Hugging Face folder (config.json + safetensors)")
      ->required()
      ->check(nonEmptyPath())
      ->group(group);
  app.add_option("--dtype", o.dtype,
                 "Weights and compute: fp32, bf16, fp16 or auto (as stored). On the CPU fp16 "
                 "weights compute in fp32")
      ->group(group);
  app.add_option("--kv-dtype", o.kvDtype, "KV cache: fp32, bf16, fp16 or auto (as --dtype)")
      ->group(group);
  app.add_option("--device", o.device, "cpu or cuda")->group(group);
}

LoadOptions ModelOptions::resolve() const {
  LoadOptions options;
  options.dtype = parseDtype(dtype, "--dtype");
  options.kvDtype = parseDtype(kvDtype, "--kv-dtype");
  options.device = parseDevice(device);
  return options;
}

}  // namespace kvs::cli
