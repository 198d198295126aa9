// Recording benchmark. Prints Markdown tables; never fails on a target.
//  1. Write throughput of a Llama-2-7B-shaped recording (32 layers x 32 KV heads x 4,096 tokens
//     x 128, float16: 1 GiB) through Hdf5Recorder, against a plain sequential write() of the same
//     bytes to the same folder, both with and without fsync, alternating, median of the runs.
//  2. Recording overhead on stories260K greedy decoding: decode time with and without a
//     recorder attached (alternating runs, medians), and the time spent inside the recorder.
//
//   kvs_bench_record [--dir DIR] [--runs N] [--quick]

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/hdf5_recorder.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "session/variant.h"
#include "util/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void fsyncPath(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

kvs::ModelConfig sevenB() {
  kvs::ModelConfig c;
  c.dim = 4096;
  c.hiddenDim = 11008;
  c.nLayers = 32;
  c.nHeads = 32;
  c.nKvHeads = 32;
  c.vocabSize = 32000;
  c.seqLen = 4096;
  return c;
}

// Seconds to write `layers` copies of `block` with write(2) in 4 MiB pieces.
double rawWrite(const std::string& path, const at::Tensor& block, int layers, bool sync) {
  const auto start = Clock::now();
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const char* data = static_cast<const char*>(block.data_ptr());
  const size_t bytes = block.numel() * block.element_size();
  for (int l = 0; l < layers; ++l) {
    for (size_t off = 0; off < bytes; off += 4 << 20) {
      const size_t n = std::min<size_t>(4 << 20, bytes - off);
      if (write(fd, data + off, n) != static_cast<ssize_t>(n)) std::perror("write");
    }
  }
  if (sync) fsync(fd);
  close(fd);
  return since(start);
}

double recorderWrite(const std::string& path, const kvs::ModelConfig& c, const at::Tensor& block,
                     bool sync) {
  const auto start = Clock::now();
  kvs::RecordingOptions o;
  o.path = path;
  o.overwrite = true;
  o.storage = kvs::StateStorage::kFloat16;
  kvs::RecordingMeta meta;
  meta.config = c;
  const int T = static_cast<int>(block.size(1));
  meta.promptIds.assign(T, 1);
  meta.promptPieces.assign(T, "x");
  kvs::Hdf5Recorder r(o, meta);
  r.beginForward(0, T);
  for (int l = 0; l < c.nLayers; ++l) r.onTensor(l, "k", block);
  r.appendToken(1, "x");
  r.finish();
  if (!r.ok()) std::fprintf(stderr, "recording failed: %s\n", r.error().c_str());
  if (sync) fsyncPath(path);
  return since(start);
}

void writeThroughput(const std::string& dir, int runs, bool quick) {
  const kvs::ModelConfig c = sevenB();
  const int T = quick ? 512 : 4096;
  const at::Tensor block = at::randn({c.nKvHeads, T, c.headDim()}).to(at::kHalf);  // one layer
  const double gib = double(block.numel()) * 2 * c.nLayers / (1 << 30);
  const std::string raw = dir + "/kvs-bench-raw.bin", h5 = dir + "/kvs-bench-rec.h5";
  std::printf(
      "\n### 7B-shaped recording: 32 layers x 32 KV heads x %d tokens x 128, float16 "
      "(%.2f GiB), %d runs, medians\n\n",
      T, gib, runs);
  std::printf("| write | plain write() s | recorder s | plain GiB/s | recorder GiB/s | ratio |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (bool sync : {false, true}) {
    std::vector<double> rawTimes, recTimes;
    for (int i = 0; i < runs; ++i) {
      rawTimes.push_back(rawWrite(raw, block, c.nLayers, sync));
      recTimes.push_back(recorderWrite(h5, c, block, sync));
    }
    const double rawS = median(rawTimes), recS = median(recTimes);
    std::printf("| %s | %.3f | %.3f | %.2f | %.2f | %.2f |\n",
                sync ? "to disk (fsync)" : "to page cache", rawS, recS, gib / rawS, gib / recS,
                rawS / recS);
  }
  std::filesystem::remove(raw);
  std::filesystem::remove(h5);
}

// Wraps the recorder to time what it costs inside the forward pass and per token.
class TimedRecorder : public kvs::LayerObserver {
 public:
  explicit TimedRecorder(kvs::Hdf5Recorder& r) : r_(r) {}
  void beginForward(int first, int n) override {
    timed([&] { r_.beginForward(first, n); });
  }
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    timed([&] { r_.onTensor(layer, name, t); });
  }
  void appendToken(int id) {
    timed([&] { r_.appendToken(id, "x"); });
  }
  double seconds = 0;

 private:
  template <typename F>
  void timed(F&& f) {
    const auto start = Clock::now();
    f();
    seconds += since(start);
  }
  kvs::Hdf5Recorder& r_;
};

void decodeOverhead(const std::string& dir, int runs) {
  const std::string modelPath = std::string(KVS_MODELS_DIR) + "/stories260K.bin";
  if (!std::filesystem::exists(modelPath)) {
    std::printf("\n(stories260K not found in %s; run .ci/setup.sh)\n", KVS_MODELS_DIR);
    return;
  }
  const auto model = kvs::loadModel(modelPath);
  kvs::GenerationRequest request;
  request.promptIds = {1, 403, 407, 261, 378};  // BOS "Once upon a time"
  request.steps = 512;
  request.sampling.temperature = 0;
  const kvs::CompressionParams full;
  std::printf(
      "\n### Recording overhead on stories260K greedy decoding (%d positions, keys "
      "float32), %d runs, medians\n\n",
      request.steps, runs);
  std::printf(
      "| flush interval | decode ms, no recording | decode ms, recording | slowdown | "
      "time inside the recorder / decode time |\n|---|---:|---:|---:|---:|\n");
  for (double interval : {0.0, 0.05}) {
    std::vector<double> plain, recorded, inside;
    for (int i = 0; i < runs; ++i) {
      plain.push_back(kvs::runVariant(*model, request, full).decodeSeconds);
      kvs::RecordingOptions o;
      o.path = dir + "/kvs-bench-decode.h5";
      o.overwrite = true;
      o.flushIntervalSeconds = interval;
      kvs::RecordingMeta meta;
      meta.config = model->config();
      meta.promptIds = request.promptIds;
      meta.promptPieces.assign(request.promptIds.size(), "x");
      kvs::Hdf5Recorder r(o, meta);
      TimedRecorder timed(r);
      kvs::DecodeHooks hooks;
      hooks.observer = &timed;
      hooks.onToken = [&](int token) {
        timed.appendToken(token);
        return true;
      };
      const auto result = kvs::runVariant(*model, request, full, hooks);
      r.finish();
      recorded.push_back(result.decodeSeconds);
      inside.push_back(timed.seconds / result.decodeSeconds);
    }
    std::printf("| %s | %.1f | %.1f | %.2fx | %.1f%% |\n", interval == 0 ? "every token" : "50 ms",
                1000 * median(plain), 1000 * median(recorded), median(recorded) / median(plain),
                100 * median(inside));
  }
  std::filesystem::remove(dir + "/kvs-bench-decode.h5");
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::filesystem::temp_directory_path().string();
  int runs = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    if (a == "--quick") quick = true;
  }
  c10::InferenceMode inference;
  kvs::setComputeThreads(0);
  std::printf("threads: %s; folder: %s\n", kvs::describe(kvs::currentThreads()).c_str(),
              dir.c_str());
  writeThroughput(dir, runs, quick);
  decodeOverhead(dir, runs);
  return 0;
}
