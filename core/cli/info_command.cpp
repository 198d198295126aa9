// kvstudio-cli info: what a model file holds and what the runtime is.

#include <ATen/Context.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "kernels/gemv.h"
#include "kvs/version.h"
#include "model/sliding_window.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/blas_info.h"
#include "util/runtime.h"

namespace kvs::cli {
namespace {

struct InfoOptions {
  ModelOptions model;
  bool json = false;
};

int runInfo(const InfoOptions& o) {
  const LoadOptions load = o.model.resolve();
  const ModelInfo model = describeModel(o.model.model);  // headers and sizes only
  const ModelConfig& c = model.config;
  // What loading with these flags would hold: the figures follow --dtype and --kv-dtype.
  const at::ScalarType dtype = load.dtype.value_or(model.storedDtype);
  const at::ScalarType kvDtype = load.kvDtype.value_or(dtype);
  const at::ScalarType compute = dtype == at::kHalf && load.device.is_cpu() ? at::kFloat : dtype;
  const int64_t weightBytes = c.parameterCount() * static_cast<int64_t>(c10::elementSize(dtype));
  const int64_t kvPerToken = c.kvBytesPerToken(static_cast<int>(c10::elementSize(kvDtype)));
  const BlasInfo blas = detectBlas();
  const std::string tokenizer = describeTokenizerIn(o.model.model, c.vocabSize);
  const WindowCache windowCache = o.model.resolveWindowCache(c);
  // A trimmed window holds at most windowSlotBound slots per head, whatever the context.
  const int windowSlots = windowCache == WindowCache::kTrim ? windowSlotBound(c.slidingWindow) : 0;
  nlohmann::ordered_json out;
  out["app_version"] = kVersion;
  out["model"] = model.path;
  out["format"] = model.formatName;
  out["family"] = describeFamily(c);
  out["tokenizer"] = tokenizer;
  out["stored_dtype"] = dtypeName(model.storedDtype);
  out["stored_bytes"] = model.weightBytes;
  out["config"] = toJson(c);
  out["parameters"] = c.parameterCount();
  out["dtype"] = dtypeName(dtype);
  out["compute_dtype"] = dtypeName(compute);
  out["weight_bytes"] = weightBytes;
  out["kv_dtype"] = dtypeName(kvDtype);
  out["kv_cache_bytes_per_token"] = kvPerToken;
  out["kv_cache_bytes_full_context"] = kvPerToken * c.seqLen;
  out["window_cache"] = nullptr;  // no sliding window
  if (c.slidingWindow > 0) {
    out["window_cache"] = {
        {"window", c.slidingWindow},
        {"mode", toString(windowCache)},
        {"bound_head_slots", windowSlots > 0 ? nlohmann::json(windowSlots) : nullptr},
        {"kv_cache_bytes_at_most",
         kvPerToken * (windowSlots > 0 ? std::min(windowSlots, c.seqLen) : c.seqLen)}};
  }
  out["device"] = load.device.str();
  out["cuda_available"] = at::hasCUDA();
  out["threads"] = describe(currentThreads());
  out["blas"] = describeBlas(blas);
  // The code this model's projections run on (kernels/gemv.h), and every dtype's for reference.
  const std::vector<std::string> paths = kernels::describeMatmulPaths();
  const std::string prefix = dtype == at::kBFloat16 ? "bfloat16"
                             : dtype == at::kHalf   ? "float16"
                                                    : "float32";
  std::string matmuls = load.device.is_cpu() ? "" : "LibTorch on " + load.device.str();
  for (const std::string& p : paths) {
    if (matmuls.empty() && p.rfind(prefix, 0) == 0) matmuls = p;
  }
  out["matmuls"] = matmuls;
  out["matmul_paths"] = paths;
  if (o.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "model:            " << model.path << " (" << model.formatName << ", "
            << dtypeName(model.storedDtype) << ", " << model.weightBytes << " bytes)\n"
            << "family:           " << describeFamily(c) << "\n"
            << "tokenizer:        " << tokenizer << "\n"
            << "config:           dim " << c.dim << ", hidden " << c.hiddenDim << ", layers "
            << c.nLayers << ", heads " << c.nHeads << " (kv " << c.nKvHeads << ", head dim "
            << c.headDim() << "), vocab " << c.vocabSize << ", context " << c.seqLen << "\n"
            << "                  rope " << toString(c.ropeStyle) << " theta " << c.ropeTheta
            << ", classifier " << (c.sharedClassifier ? "shared with embedding" : "separate")
            << "\n"
            << "parameters:       " << c.parameterCount() << "\n"
            << "dtype:            " << dtypeName(dtype) << " (compute " << dtypeName(compute)
            << "), weights " << weightBytes << " bytes\n"
            << "KV cache:         " << dtypeName(kvDtype) << ", " << kvPerToken
            << " bytes per token, " << kvPerToken * c.seqLen << " bytes for the full context\n";
  if (c.slidingWindow > 0 && windowSlots > 0) {
    std::cout << "sliding window:   " << c.slidingWindow
              << " positions; the cache keeps only the window (--window-cache trim): at most "
              << windowSlots << " slots per head, " << kvPerToken * std::min(windowSlots, c.seqLen)
              << " bytes at any length\n";
  } else if (c.slidingWindow > 0) {
    std::cout << "sliding window:   " << c.slidingWindow
              << " positions; the cache keeps every slot behind the mask (--window-cache keep)\n";
  }
  std::cout << "device:           " << load.device.str()
            << (at::hasCUDA() ? " (CUDA available)" : "") << "\n"
            << "threads:          " << describe(currentThreads()) << "\n"
            << "BLAS:             " << describeBlas(blas) << "\n"
            << "matmuls:          " << matmuls << "\n";
  return 0;
}

}  // namespace

Action addInfoCommand(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  addModelOptions(app, o->model);
  addWindowCacheOption(app, o->model);
  app.add_flag("--json", o->json, "Print one JSON object");
  return [o] { return runInfo(*o); };
}

}  // namespace kvs::cli
