// kvs_bench_device: the speed measurements of the device check (issue 18), on any device.
// Writes a random-weight model of the given shape with the project's exporter (generated on the
// device, tensor by tensor), then measures: load time, prefill of --prompt-tokens, decode tokens/s
// at that context and its fraction of the memory-bandwidth bound, compression time of the
// prompt's cache by each --methods entry, and decode over each compressed cache.
//
//   kvs_bench_device [--shape 7b|tiny] [--device cuda|cpu] [--dtype bf16|fp16|fp32]
//                    [--prompt-tokens 3500] [--decode-steps 64] [--methods kvmerger,h2o]
//                    [--budget 0.5] [--dir DIR] [--json FILE] [--keep]
//
// The bound: a decode step reads every weight and every cached key and value once, so
// tokens/s <= bandwidth / (weight bytes + cache bytes), with the bandwidth of a device-to-device
// copy measured here ((read + write bytes) / time). The JSON file is rewritten after every phase,
// so a run stopped by a time limit still leaves what it measured.

#include <ATen/ATen.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cache/attention_tracker.h"
#include "cache/kv_cache.h"
#include "compress/compression_policy.h"
#include "model/hf_export.h"
#include "model/model_loader.h"
#include "util/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Waits for the device's queued work: reading one element back synchronises the stream, and
// needs no CUDA header, so this file builds against a CPU-only LibTorch too.
void sync(const at::Tensor& t) {
  if (t.defined() && t.is_cuda()) (void)t.flatten()[0].item<float>();
}

kvs::ModelConfig shapeConfig(const std::string& shape) {
  kvs::ModelConfig c;
  if (shape == "7b") {  // Llama-2-7B
    c.dim = 4096, c.hiddenDim = 11008, c.nLayers = 32, c.nHeads = 32, c.nKvHeads = 32;
    c.vocabSize = 32000;
  } else if (shape == "tiny") {  // the CPU rehearsal's: seconds on two cores, GQA like Llama 3
    c.dim = 256, c.hiddenDim = 688, c.nLayers = 4, c.nHeads = 8, c.nKvHeads = 4;
    c.vocabSize = 512;
  } else {
    throw std::runtime_error("--shape must be 7b or tiny");
  }
  c.seqLen = 4096;
  c.sharedClassifier = false;
  return c;
}

struct Options {
  std::string shape = "7b", device = "cuda", dtype = "bf16", dir, json;
  std::string methods = "kvmerger,h2o";
  int promptTokens = 3500, decodeSteps = 64;
  double budget = 0.5;
  bool keep = false;
};

class Report {
 public:
  explicit Report(std::string path) : path_(std::move(path)) {}
  nlohmann::json& operator[](const std::string& key) { return j_[key]; }
  void save() const {
    if (path_.empty()) return;
    std::ofstream(path_ + ".part") << j_.dump(2) << "\n";
    fs::rename(path_ + ".part", path_);
  }

 private:
  std::string path_;
  nlohmann::json j_ = nlohmann::json::object();
};

// Device-to-device copy bandwidth in bytes/s over a 1 GiB buffer (64 MiB on the CPU).
double copyBandwidth(at::Device device) {
  const int64_t bytes = device.is_cuda() ? int64_t{1} << 30 : int64_t{64} << 20;
  const auto options = at::TensorOptions().device(device).dtype(at::kByte);
  const at::Tensor a = at::ones({bytes}, options), b = at::empty({bytes}, options);
  for (int i = 0; i < 2; ++i) b.copy_(a);
  sync(b);
  const int reps = 10;
  const auto t = Clock::now();
  for (int i = 0; i < reps; ++i) b.copy_(a);
  sync(b);
  return 2.0 * static_cast<double>(bytes) * reps / since(t);
}

// Greedy decode of `steps` tokens after two untimed ones; tokens/s.
double decodeRate(const kvs::LlamaModel& model, kvs::KvCache& cache, at::Tensor logits, int steps) {
  auto next = [&] {
    logits = model.forward({static_cast<int>(logits.argmax().item<int64_t>())}, cache);
  };
  for (int i = 0; i < 2; ++i) next();
  sync(logits);
  const auto t = Clock::now();
  for (int i = 0; i < steps; ++i) next();
  sync(logits);
  return steps / since(t);
}

nlohmann::json decodeFigures(const kvs::LlamaModel& model, kvs::KvCache& cache,
                             const at::Tensor& logits, int steps, double bandwidth) {
  const int64_t cacheBytes = cache.memory().used;
  const double rate = decodeRate(model, cache, logits, steps);
  const double bytesPerToken = static_cast<double>(model.weightBytes() + cacheBytes);
  const double bound = bandwidth / bytesPerToken;
  return {{"tokens_per_s", rate},
          {"cache_bytes", cacheBytes},
          {"bytes_per_token", bytesPerToken},
          {"bound_tokens_per_s", bound},
          {"fraction_of_bound", rate / bound}};
}

void writeRandomModel(const std::string& folder, const kvs::ModelConfig& c, at::Device device,
                      at::ScalarType dtype) {
  kvs::HfExportOptions options;
  options.dtype = dtype;
  options.maxShardBytes = int64_t{4} << 30;
  // Generated on the device (seconds for 7B on a GPU, where the CPU would take minutes).
  const auto make = at::TensorOptions().device(device).dtype(device.is_cuda() ? dtype : at::kFloat);
  auto source = [&](const std::string&, const std::vector<int64_t>& shape) {
    if (shape.size() == 1) return at::ones(shape);  // norms
    return at::randn(shape, make).mul_(0.02);
  };
  kvs::writeHfCheckpoint(folder, c, source, options);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int run(const Options& o) {
  kvs::tuneAllocator();
  const at::Device device = kvs::parseDevice(o.device);
  const at::ScalarType dtype = kvs::parseDtype(o.dtype, "--dtype").value();
  const kvs::ModelConfig config = shapeConfig(o.shape);
  at::manual_seed(7);
  Report r(o.json);
  r["shape"] = o.shape, r["device"] = o.device, r["dtype"] = o.dtype;
  r["prompt_tokens"] = o.promptTokens, r["decode_steps"] = o.decodeSteps;
  r["parameters"] = config.parameterCount();
  const auto phase = [&](const std::string& name) {
    std::cout << "[bench] " << name << std::endl;
    r["last_phase"] = name;
    r.save();
  };

  phase("bandwidth");
  const double bandwidth = copyBandwidth(device);
  r["copy_bandwidth_GBps"] = bandwidth / 1e9;

  phase("write");
  const std::string dir = o.dir.empty() ? fs::temp_directory_path().string() : o.dir;
  const std::string folder = dir + "/kvs-bench-device-" + o.shape + "-" + o.dtype;
  auto t = Clock::now();
  if (!fs::exists(folder)) writeRandomModel(folder, config, device, dtype);
  r["write_s"] = since(t);

  phase("load");
  kvs::LoadOptions load;
  load.device = device;
  load.dtype = dtype;
  t = Clock::now();
  const auto model = kvs::loadModel(folder, load);  // copies from pageable memory: synchronous
  r["load_s"] = since(t);
  r["weight_bytes"] = model->weightBytes();

  std::vector<int> prompt(o.promptTokens);
  for (int i = 0; i < o.promptTokens; ++i) prompt[i] = 1 + (i * 7919) % (config.vocabSize - 1);
  {  // warm-up: library handles, allocator pools, kernels' first launches
    kvs::KvCache warm = model->makeCache();
    sync(model->forward(std::vector<int>(prompt.begin(), prompt.begin() + 16), warm));
  }

  phase("prefill");
  kvs::KvCache cache = model->makeCache();
  t = Clock::now();
  at::Tensor logits = model->forward(prompt, cache);
  sync(logits);
  r["prefill_s"] = since(t);

  phase("decode");
  r["decode_full"] = decodeFigures(*model, cache, logits, o.decodeSteps, bandwidth);

  phase("prefill with attention");
  kvs::KvCache tracked = model->makeCache();
  t = Clock::now();
  {
    kvs::AttentionTracker tracker(tracked, config.groupSize(), kvs::GqaReduction::kMean);
    logits = model->forward(prompt, tracked, kvs::LogitsMode::kLast, &tracker);
    sync(logits);
  }
  r["prefill_with_attention_s"] = since(t);

  for (const std::string& method : split(o.methods)) {
    phase("compress " + method);
    kvs::CompressionParams params;
    params.method = method;
    params.budget = o.budget;
    const auto policy = kvs::makePolicy(params);
    kvs::KvCache c = tracked.clone();
    sync(c.keys(config.nLayers - 1));
    t = Clock::now();
    if (policy) policy->compress(c);
    sync(c.keys(config.nLayers - 1));
    nlohmann::json m = {{"compress_s", since(t)}, {"slots", c.totalSlots()}};
    phase("decode " + method);
    m["decode"] = decodeFigures(*model, c, logits, o.decodeSteps, bandwidth);
    r["methods"][method] = m;
  }
  phase("done");
  if (!o.keep) fs::remove_all(folder);

  std::cout << r["shape"] << " " << o.dtype << " on " << o.device << ": "
            << nlohmann::json{{"copy_bandwidth_GBps", r["copy_bandwidth_GBps"]},
                              {"load_s", r["load_s"]},
                              {"prefill_s", r["prefill_s"]},
                              {"decode_full", r["decode_full"]},
                              {"methods", r["methods"]}}
                   .dump(1)
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--shape")
        o.shape = next();
      else if (a == "--device")
        o.device = next();
      else if (a == "--dtype")
        o.dtype = next();
      else if (a == "--prompt-tokens")
        o.promptTokens = std::stoi(next());
      else if (a == "--decode-steps")
        o.decodeSteps = std::stoi(next());
      else if (a == "--methods")
        o.methods = next();
      else if (a == "--budget")
        o.budget = std::stod(next());
      else if (a == "--dir")
        o.dir = next();
      else if (a == "--json")
        o.json = next();
      else if (a == "--keep")
        o.keep = true;
      else {
        std::cerr << "usage: see the comment at the top of tests/gpu/bench_device.cpp\n";
        return 2;
      }
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
