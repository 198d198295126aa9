// kvstudio-cli info: what a model file holds and what the runtime is.

#include <ATen/Context.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "kvs/version.h"
#include "model/hf_config.h"
#include "model/model_loader.h"
#include "util/blas_info.h"
#include "util/runtime.h"

namespace kvs::cli {
namespace {

struct InfoOptions {
  std::string model;
  bool json = false;
};

int runInfo(const InfoOptions& o) {
  const ModelInfo model = describeModel(o.model);  // headers and sizes only
  const ModelConfig& c = model.config;
  const BlasInfo blas = detectBlas();
  nlohmann::ordered_json out;
  out["app_version"] = kVersion;
  out["model"] = o.model;
  out["format"] = model.formatName;
  out["stored_dtype"] = hfDtypeName(model.storedDtype);
  out["weight_bytes"] = model.weightBytes;
  out["config"] = toJson(c);
  out["parameters"] = c.parameterCount();
  out["dtype"] = "float32";
  out["kv_cache_bytes_per_token"] = c.kvBytesPerToken(4);
  out["kv_cache_bytes_full_context"] = c.kvBytesPerToken(4) * c.seqLen;
  out["device"] = "cpu";
  out["cuda_available"] = at::hasCUDA();
  out["threads"] = describe(currentThreads());
  out["blas"] = describeBlas(blas);
  if (o.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "model:            " << model.path << " (" << model.formatName << ", "
            << hfDtypeName(model.storedDtype) << ", " << model.weightBytes << " bytes)\n"
            << "config:           dim " << c.dim << ", hidden " << c.hiddenDim << ", layers "
            << c.nLayers << ", heads " << c.nHeads << " (kv " << c.nKvHeads << ", head dim "
            << c.headDim() << "), vocab " << c.vocabSize << ", context " << c.seqLen << "\n"
            << "                  rope " << toString(c.ropeStyle) << " theta " << c.ropeTheta
            << ", classifier " << (c.sharedClassifier ? "shared with embedding" : "separate")
            << "\n"
            << "parameters:       " << c.parameterCount() << "\n"
            << "dtype:            float32\n"
            << "KV cache:         " << c.kvBytesPerToken(4) << " bytes per token, "
            << c.kvBytesPerToken(4) * c.seqLen << " bytes for the full context\n"
            << "device:           cpu" << (at::hasCUDA() ? " (CUDA available)" : "") << "\n"
            << "threads:          " << describe(currentThreads()) << "\n"
            << "BLAS:             " << describeBlas(blas) << "\n";
  return 0;
}

}  // namespace

Action addInfoCommand(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  app.add_option("--model", o->model,
                 "llama2.c checkpoint (.bin) or Hugging Face folder (config.json + safetensors)")
      ->required();
  app.add_flag("--json", o->json, "Print one JSON object");
  return [o] { return runInfo(*o); };
}

}  // namespace kvs::cli
