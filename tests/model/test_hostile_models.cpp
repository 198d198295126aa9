// kvstudio-cli on hostile model inputs made here from stories260K: FIFOs in place of model files,
// shifted safetensors offsets, nonsense config.json fields, and sparse files whose consistent
// headers describe models larger than the machine's memory. Each ends in one line
// "kvstudio-cli: error: ..." and exit code 2, within seconds.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_runner.h"
#include "model/hf_config.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "test_util.h"

namespace kvs::test {
namespace {

namespace fs = std::filesystem;

// A hang is the bug these tests look for: the run is killed after 20 s (exit 137). `limits`
// (e.g. "ulimit -d ...") run before it in the same shell.
CliRun runCliWithin(const std::string& args, const std::string& limits = "") {
  return runCliCommand(args, limits, 20);
}

// Exit 2 and exactly one line on stderr, the error, containing `expected`.
void expectOneLineError(const CliRun& r, const std::string& expected) {
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_EQ(r.err.rfind("kvstudio-cli: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
}

// stories260K exported as a Hugging Face folder in dir.
std::string storiesFolder(const TempDir& dir) {
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  HfExportOptions options;
  options.tokenizerPath = modelPath("tok512.model");
  writeHfCheckpoint(dir.file("hf"), bin.config, bin.weights, options);
  return dir.file("hf");
}

void makeFifo(const std::string& path) {
  fs::remove(path);
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
}

TEST(HostileModels, FifosAreRefusedInsteadOfWaitedOn) {
  TempDir dir;
  const std::string folder = storiesFolder(dir);
  for (const std::string name : {"config.json", "model.safetensors"}) {
    SCOPED_TRACE(name);
    const std::string kept = dir.file("kept");
    fs::rename(folder + "/" + name, kept);
    makeFifo(folder + "/" + name);
    expectOneLineError(runCliWithin("info --model " + folder),
                       folder + "/" + name + " is a FIFO, not a regular file; name a file");
    fs::remove(folder + "/" + name);
    fs::rename(kept, folder + "/" + name);
  }
  makeFifo(dir.file("m.bin"));
  for (const std::string command : {"info", "generate --prompt hi"}) {
    expectOneLineError(runCliWithin(command + " --model " + dir.file("m.bin")),
                       "the model file " + dir.file("m.bin") + " is a FIFO, not a regular file");
  }
}

TEST(HostileModels, ShiftedSafetensorsOffsetsAreRefused) {
  TempDir dir;
  const std::string folder = storiesFolder(dir);
  const std::string file = folder + "/model.safetensors";
  const std::string bytes = readFile(file);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    for (auto& offset : entry["data_offsets"]) offset = offset.get<int64_t>() + 4;
  }
  const std::string text = header.dump();
  std::string shifted(8, '\0');
  for (int i = 0; i < 8; ++i) shifted[i] = static_cast<char>(uint64_t(text.size()) >> (8 * i));
  writeFile(file, shifted + text + bytes.substr(8 + n) + std::string(4, '\0'));
  expectOneLineError(runCliWithin("generate --prompt hi --steps 4 --model " + folder),
                     "tensor 'model.embed_tokens.weight' begins at data byte 4, but the first "
                     "tensor must begin at byte 0");
}

TEST(HostileModels, NonsenseConfigFieldsAreNamed) {
  TempDir dir;
  const std::string folder = storiesFolder(dir);
  const nlohmann::json good = nlohmann::json::parse(readFile(folder + "/config.json"));
  nlohmann::json config = good;
  config["rms_norm_eps"] = 1e300;
  writeFile(folder + "/config.json", config.dump());
  expectOneLineError(runCliWithin("generate --prompt hi --steps 4 --model " + folder),
                     "\"rms_norm_eps\" must be a number in (0, 0.1], got 1e+300");
  config = good;
  config["tie_word_embeddings"] = "yes";
  writeFile(folder + "/config.json", config.dump());
  expectOneLineError(runCliWithin("info --model " + folder),
                     "\"tie_word_embeddings\" must be true or false (a JSON boolean), got \"yes\"");
}

int64_t memTotalBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  meminfo >> key >> kib;  // "MemTotal: <n> kB" is the first line
  return key == "MemTotal:" ? kib * 1024 : 0;
}

// Llama-2-7B's shape with enough layers that its float32 weights are twice this machine's memory
// (32 layers, 25.1 GiB, on a machine under 12 GiB).
ModelConfig largerThanMemory() {
  ModelConfig c;
  c.dim = 4096, c.hiddenDim = 11008, c.nHeads = 32, c.nKvHeads = 32;
  c.vocabSize = 32000, c.seqLen = 2048, c.sharedClassifier = false;
  c.nLayers = 1;
  const int64_t perLayer = (c.parameterCount() - 2 * int64_t{32000} * 4096 - 4096) * 4;
  c.nLayers = static_cast<int>(std::max<int64_t>(32, 2 * memTotalBytes() / perLayer + 1));
  return c;
}

// The ulimit keeps a regression from taking the machine down: without the check, the load's
// first large allocation fails (a different message) instead of reading until the OOM killer.
const std::string kDataLimit = "ulimit -d 4194304";  // KiB of heap and anonymous mappings
const std::regex kNotEnoughMemory(
    "kvstudio-cli: error: not enough memory to load .*: its weights in float32 need [0-9.]+ GiB "
    "but [0-9.]+ GiB is available \\(MemAvailable in /proc/meminfo\\); .*\n");

TEST(HostileModels, SparseLlama2cLargerThanMemoryIsRefusedBeforeReading) {
  const ModelConfig c = largerThanMemory();
  if (c.nLayers > 1024) GTEST_SKIP() << "this machine has more memory than any test model";
  TempDir dir;
  const std::string path = dir.file("7b.bin");
  const int32_t header[7] = {c.dim,      c.hiddenDim,  c.nLayers, c.nHeads,
                             c.nKvHeads, -c.vocabSize, c.seqLen};
  writeFile(path, std::string(reinterpret_cast<const char*>(header), sizeof header));
  fs::resize_file(path, llama2cFileSize(c, Llama2cFormat::kLegacy));  // a hole: no disk used
  const auto start = std::chrono::steady_clock::now();
  const CliRun r = runCliWithin("generate --prompt hi --model " + path, kDataLimit);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_TRUE(std::regex_match(r.err, kNotEnoughMemory)) << r.err;
}

TEST(HostileModels, SparseHuggingFaceFolderLargerThanMemoryIsRefusedBeforeReading) {
  ModelConfig c = largerThanMemory();
  if (c.nLayers > 1024) GTEST_SKIP() << "this machine has more memory than any test model";
  c.ropeStyle = RopeStyle::kHalfSplit;
  TempDir dir;
  const std::string folder = dir.file("hf");
  fs::create_directories(folder);
  writeFile(folder + "/config.json", hfConfigJson(c, at::kFloat).dump());
  nlohmann::json header = nlohmann::json::object();
  int64_t offset = 0;
  for (const HfTensorSpec& spec : hfTensorSpecs(c)) {
    int64_t bytes = 4;
    for (int64_t d : spec.shape) bytes *= d;
    header[spec.name] = {
        {"dtype", "F32"}, {"shape", spec.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  const std::string text = header.dump();
  std::string lengthField(8, '\0');
  for (int i = 0; i < 8; ++i) lengthField[i] = static_cast<char>(uint64_t(text.size()) >> (8 * i));
  const std::string file = folder + "/model.safetensors";
  writeFile(file, lengthField + text);
  fs::resize_file(file, 8 + text.size() + offset);  // a hole: no disk used
  const CliRun r = runCliWithin(
      "generate --prompt hi --tokenizer " + modelPath("tok512.model") + " --model " + folder,
      kDataLimit);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_TRUE(std::regex_match(r.err, kNotEnoughMemory)) << r.err;
}

}  // namespace
}  // namespace kvs::test
