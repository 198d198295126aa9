// kvs_bench_generate: prefill and decode speed of LlamaModel::forward on the CPU, against the
// memory-bandwidth bound of decode. One model per process so that peak RSS belongs to that model;
// tests/bench/run_benchmarks.sh runs it once per model and assembles the Markdown table.
//
//   kvs_bench_generate --machine                 bandwidth, threads, BLAS ("info" lines)
//   kvs_bench_generate --header                  the table header
//   kvs_bench_generate --model stories260K|random110m|FILE --bandwidth-gbs X
//                                                one table row ("row"), targets ("target")
//   kvs_bench_generate --breakdown               where decode time goes (matmul micro-benchmark)
//   kvs_bench_generate --model M --session METHOD
//                                                decode through the session's one decode path
//                                                (sampler, hooks, per-step bytes; METHOD full,
//                                                h2o, ... adds attention tracking), one "session"
//                                                line
//
// Output lines start with a tag (info, row, target, note); progress goes to stderr.
//
// The sources: this file (options, main, the table row and --session), bench_generate_machine.cpp
// (threads, bandwidth, --machine, --breakdown), bench_generate_models.cpp (the checkpoints);
// bench_generate_common.h declares what crosses them.

#include <ATen/ATen.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_generate_common.h"
#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "model/llama_model.h"
#include "model/model_config.h"
#include "model/model_loader.h"
#include "session/variant.h"
#include "util/error.h"

namespace bench_generate {
namespace {

using kvs::KvCache;
using kvs::LlamaModel;

// ------------------------------------------------------------------------------------ options

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "error: " << error << "\n"
            << "usage: kvs_bench_generate (--machine | --header | --breakdown |\n"
            << "                           --model stories260K|random110m|random350m|FILE\n"
            << "                           --bandwidth-gbs X) [--dtype fp32|bf16|fp16]\n"
            << "       [--kv-dtype fp32|bf16|fp16]\n"
            << "       [--reps N] [--prompt-tokens N] [--decode-steps N] [--threads N]\n"
            << "       [--blas-threads N] [--cache-dir DIR] [--bandwidth-mib N]\n";
  std::exit(2);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  const char* envCache = std::getenv("KVS_BENCH_CACHE");
  o.cacheDir = envCache && *envCache
                   ? envCache
                   : (std::filesystem::temp_directory_path() / "kvstudio-bench").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto intValue = [&]() {
      const std::string v = value();
      try {
        return std::stoi(v);
      } catch (...) {
        usage(a + " needs an integer, got '" + v + "'");
      }
    };
    if (a == "--machine") {
      o.mode = "machine";
    } else if (a == "--header") {
      o.mode = "header";
    } else if (a == "--breakdown") {
      o.mode = "breakdown";
    } else if (a == "--model") {
      o.mode = "model";
      o.model = value();
    } else if (a == "--bandwidth-gbs") {
      o.bandwidthGBs = std::atof(value().c_str());
    } else if (a == "--cache-dir") {
      o.cacheDir = value();
    } else if (a == "--reps") {
      o.reps = intValue();
    } else if (a == "--prompt-tokens") {
      o.promptTokens = intValue();
    } else if (a == "--decode-steps") {
      o.decodeSteps = intValue();
    } else if (a == "--threads") {
      o.threads = intValue();
    } else if (a == "--blas-threads") {
      o.blasThreads = intValue();
    } else if (a == "--bandwidth-mib") {
      o.bandwidthMiB = intValue();
    } else if (a == "--session") {
      o.session = value();
    } else if (a == "--dtype") {
      o.dtype = value();
    } else if (a == "--kv-dtype") {
      o.kvDtype = value();
    } else if (a == "-h" || a == "--help") {
      usage("help requested");
    } else {
      usage("unknown argument '" + a + "'");
    }
  }
  if (o.mode.empty()) usage("choose one of --machine, --header, --model, --breakdown");
  if (o.reps < 1 || o.promptTokens < 1 || o.decodeSteps < 1 || o.bandwidthMiB < 16) {
    usage("--reps, --prompt-tokens, --decode-steps must be >= 1, --bandwidth-mib >= 16");
  }
  return o;
}

// ------------------------------------------------------------------------------------ helpers

// A value in kB from /proc/self/status (VmHWM = peak RSS, VmRSS = current RSS); -1 if absent.
int64_t procStatusKb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  }
  return -1;
}

double mib(int64_t kb) {
  return kb / 1024.0;
}

std::string paramsText(int64_t n) {
  return n >= 1000000 ? fmt(n / 1e6, 1) + "M" : fmt(n / 1e3, 0) + "K";
}

std::string bytesText(double bytes) {
  if (bytes >= 1e9) return fmt(bytes / 1e9, 2) + " GB";
  if (bytes >= 1e6) return fmt(bytes / 1e6, 1) + " MB";
  return fmt(bytes / 1e3, 0) + " kB";
}

// ------------------------------------------------------------------------------------ model run

int runModel(const Options& o) {
  if (o.bandwidthGBs <= 0) usage("--model needs --bandwidth-gbs (from --machine)");
  const ModelSpec spec = resolveModel(o);  // may fork: before any LibTorch work
  configureThreads(o);

  const auto t0 = Clock::now();
  kvs::LoadOptions load;
  load.dtype = kvs::parseDtype(o.dtype, "--dtype");
  load.kvDtype = kvs::parseDtype(o.kvDtype, "--kv-dtype");
  const std::unique_ptr<LlamaModel> model = kvs::loadModel(spec.path, load);
  const double loadSeconds = seconds(t0, Clock::now());
  const int64_t rssAfterLoadKb = procStatusKb("VmRSS");
  const ModelConfig& c = model->config();
  kvs::require(o.promptTokens <= c.seqLen, "--prompt-tokens " + std::to_string(o.promptTokens) +
                                               " exceeds the context of " + spec.name + " (" +
                                               std::to_string(c.seqLen) + ")");
  kvs::require(o.decodeSteps < c.seqLen, "--decode-steps must be below the context");

  // Decode continues the measured prefill when the context leaves room; otherwise it follows a
  // shorter prefill that does (stories260K's context is 512 positions).
  const int decodePrompt = std::min(o.promptTokens, c.seqLen - o.decodeSteps);
  const std::vector<int> prompt = randomTokens(o.promptTokens, c.vocabSize, /*seed=*/2024);
  const std::vector<int> decodePromptIds(prompt.begin(), prompt.begin() + decodePrompt);
  KvCache cache = model->makeCache();
  bool finite = true;

  // One rep: prefill (timed), then decode steps (timed). The first call is a warm-up, also
  // growing the cache to its full size, so the timed reps see steady state.
  auto rep = [&](int steps, double* prefillSec, double* decodeSec) {
    cache.clear();
    auto a = Clock::now();
    at::Tensor logits = model->forward(prompt, cache);
    *prefillSec = seconds(a, Clock::now());
    finite = finite && at::isfinite(logits).all().item<bool>();
    if (decodePrompt != o.promptTokens) {
      cache.clear();
      logits = model->forward(decodePromptIds, cache);
    }
    int token = greedyToken(logits);
    a = Clock::now();
    for (int s = 0; s < steps; ++s) {
      logits = model->forward({token}, cache);
      token = greedyToken(logits);
    }
    *decodeSec = seconds(a, Clock::now());
    finite = finite && at::isfinite(logits).all().item<bool>();
  };

  std::cerr << spec.name << ": loaded in " << fmt(loadSeconds, 2) << " s, threads " << threadsText()
            << "; warm-up ...\n";
  double p = 0, d = 0;
  rep(std::min(o.decodeSteps, 8), &p, &d);
  std::vector<double> prefillRate, decodeRate;
  for (int r = 0; r < o.reps; ++r) {
    rep(o.decodeSteps, &p, &d);
    prefillRate.push_back(o.promptTokens / p);
    decodeRate.push_back(o.decodeSteps / d);
    std::cerr << "  rep " << r + 1 << "/" << o.reps << ": prefill " << fmt(o.promptTokens / p, 1)
              << " tok/s, decode " << fmt(o.decodeSteps / d, 1) << " tok/s\n";
  }

  const double prefillTps = median(prefillRate), decodeTps = median(decodeRate);
  const int64_t params = c.parameterCount();
  const double weightBytes = static_cast<double>(model->weightBytes());
  const double boundTps = o.bandwidthGBs * 1e9 / weightBytes;
  const double fraction = decodeTps / boundTps;
  const double speedup = prefillTps / decodeTps;
  const int64_t peakKb = procStatusKb("VmHWM");
  // KV cache bytes one decode step reads, mid-way through the measured steps (not in the bound).
  const double kvReadBytes =
      double(c.kvBytesPerToken(static_cast<int>(c10::elementSize(model->kvDtype())))) *
      (decodePrompt + o.decodeSteps / 2);

  std::cout << "row | " << spec.name << " | " << paramsText(params) << " | " << fmt(prefillTps, 0)
            << " | " << fmt(decodeTps, 1) << " | " << fmt(1000.0 / decodeTps, 2) << " | "
            << fmt(speedup, 1) << "x | " << bytesText(weightBytes) << " | " << fmt(boundTps, 0)
            << " | " << fmt(100 * fraction, 1) << "% | " << fmt(mib(peakKb), 0) << " |\n";
  std::cout << "note " << spec.name << ": " << c.nLayers << " layers, dim " << c.dim << ", hidden "
            << c.hiddenDim << ", heads " << c.nHeads << "/" << c.nKvHeads << ", vocab "
            << c.vocabSize << ", context " << c.seqLen << "; decode " << o.decodeSteps
            << " steps after a " << decodePrompt << "-token prefill; load " << fmt(loadSeconds, 2)
            << " s; RSS after load " << fmt(mib(rssAfterLoadKb), 0) << " MiB, peak "
            << fmt(mib(peakKb), 0) << " MiB (load included); KV cache ("
            << kvs::dtypeName(model->kvDtype()) << ") read per step ~" << bytesText(kvReadBytes)
            << " (not in the bound)" << (finite ? "" : "; WARNING: non-finite logits") << "\n";
  auto target = [&](bool pass, const std::string& text) {
    std::cout << "target " << (pass ? "PASS" : "MISS") << " " << text << "\n";
  };
  if (o.model == "random110m") {
    target(fraction >= 0.5,
           spec.name + " decode at >= 50% of the bandwidth bound: " + fmt(100 * fraction, 1) +
               "% (" + fmt(decodeTps, 1) + " of " + fmt(boundTps, 0) + " tok/s)");
  }
  target(speedup >= 10, spec.name + " batched prefill >= 10x faster per token than decode: " +
                            fmt(speedup, 1) + "x");
  if (o.model == "stories260K") {
    target(decodeTps >= 1000, spec.name + " decode >= 1000 tok/s: " + fmt(decodeTps, 0) + " tok/s");
  }
  return 0;
}

// ------------------------------------------------------------------------------------ session

// Decode through the session's decode path (what generate, the GUI and compare run) rather than
// LlamaModel::forward alone: the sampler, the per-step hooks and bookkeeping, and for a
// compressing method attention tracking and the compression. Prints one "session" line with the
// median decode rate, so that a change of the decode path can be timed old against new.
int runSession(const Options& o) {
  const ModelSpec spec = resolveModel(o);  // may fork: before any LibTorch work
  configureThreads(o);
  const std::unique_ptr<LlamaModel> model = kvs::loadModel(spec.path);
  const ModelConfig& c = model->config();
  kvs::require(o.decodeSteps < c.seqLen, "--decode-steps must be below the context");
  const int P = std::min(o.promptTokens, c.seqLen - o.decodeSteps);
  kvs::GenerationRequest request;
  request.promptIds = randomTokens(P, c.vocabSize, /*seed=*/2024);
  request.sampling.temperature = 0.0f;  // greedy, no stop ids: every step runs
  kvs::CompressionParams params;
  params.method = kvs::methodNamed(o.session).name();
  const auto rep = [&](int steps) {
    request.steps = P + steps;
    const auto r = kvs::runVariant(*model, request, params);
    return r.decodeForwardPasses / r.decodeSeconds;
  };
  rep(std::min(o.decodeSteps, 8));  // warm-up
  std::vector<double> rates;
  for (int r = 0; r < o.reps; ++r) {
    rates.push_back(rep(o.decodeSteps));
    std::cerr << "  rep " << r + 1 << "/" << o.reps << ": decode " << fmt(rates.back(), 1)
              << " tok/s\n";
  }
  std::cout << "session " << spec.name << " " << o.session << " decode_tok_s "
            << fmt(median(rates), 1) << " (" << o.decodeSteps << " steps after a " << P
            << "-token prefill, median of " << o.reps << ")\n";
  return 0;
}

int runHeader(const Options& o) {
  std::cout << "row | model | params | prefill tok/s (" << o.promptTokens
            << ") | decode tok/s | ms/token | "
               "prefill/decode per-token speed-up | weights bytes/token | bandwidth-bound tok/s | "
               "fraction of bound | peak RSS MiB |\n"
               "row |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  return 0;
}

}  // namespace
}  // namespace bench_generate

int main(int argc, char** argv) {
  using namespace bench_generate;
  const Options o = parseOptions(argc, argv);
  try {
    if (o.mode == "machine") return runMachine(o);
    if (o.mode == "header") return runHeader(o);
    if (o.mode == "breakdown") return runBreakdown(o);
    if (!o.session.empty()) return runSession(o);
    return runModel(o);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
