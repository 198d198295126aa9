#include "cli/model_options.h"

#include <CLI/CLI.hpp>

#include "cli/validators.h"
#include "util/error.h"

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

void addWindowCacheOption(CLI::App& app, ModelOptions& o) {
  app.add_option("--window-cache", o.windowCache,
                 "A model with a sliding window (Mistral): trim (default) drops the cache's slots "
                 "no later query can see, so it holds about the window; keep holds every slot "
                 "behind the mask (the same logits, more memory). An error for other models")
      ->check(CLI::IsMember({"trim", "keep"}))
      ->group("Model");
}

WindowCache ModelOptions::resolveWindowCache(const ModelConfig& config) const {
  require(windowCache.empty() || config.slidingWindow > 0,
          "--window-cache " + windowCache + " has no effect: " + model +
              " has no sliding window (only a Mistral config.json with a sliding_window has "
              "one); drop --window-cache");
  return windowCache == "keep" ? WindowCache::kKeep : WindowCache::kTrim;
}

LoadOptions ModelOptions::resolve() const {
  LoadOptions options;
  options.dtype = parseDtype(dtype, "--dtype");
  options.kvDtype = parseDtype(kvDtype, "--kv-dtype");
  options.device = parseDevice(device);
  return options;
}

}  // namespace kvs::cli
