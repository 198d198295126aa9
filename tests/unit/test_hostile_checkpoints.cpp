// Hostile model files, each made here by mutating a good one: FIFOs in place of checkpoint files,
// safetensors whose offsets or header length are shifted, config.json and llama2.c header fields
// of the wrong type or out of range. Each is refused with one message naming the field or tensor.

#include <ATen/ATen.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "cache/kv_cache.h"
#include "model/hf_checkpoint.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "model/model_loader.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// Any exception's message: a raw nlohmann or c10 error must fail the expectation, not the binary.
std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const KvsError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(not a KvsError) ") + e.what();
  }
  return "(no error)";
}

std::string describeError(const std::string& path) {
  return errorOf([&] { describeModel(path); });
}

std::string exportTiny(const TempDir& dir, int64_t maxShardBytes = 0) {
  const ModelConfig c = test::tinyModelConfig(false);
  HfExportOptions options;
  options.maxShardBytes = maxShardBytes;
  writeHfCheckpoint(dir.file("hf"), c, randomWeights(c, 3), options);
  return dir.file("hf");
}

// The shard files of a sharded export, in name order.
std::vector<std::string> shards(const std::string& folder) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() == ".safetensors") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Replaces a file by a FIFO.
void makeFifo(const std::string& path) {
  fs::remove(path);
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
}

// Opens the FIFO's write end as soon as something blocks reading it (for at most 5 s), so code
// that wrongly opens it fails instead of hanging the test binary; sawReader() tells it happened.
class FifoUnblocker {
 public:
  explicit FifoUnblocker(std::string path) : path_(std::move(path)), thread_([this] { run(); }) {}
  ~FifoUnblocker() {
    stop_ = true;
    thread_.join();
  }
  bool sawReader() const { return sawReader_; }

 private:
  void run() {
    for (int i = 0; i < 250 && !stop_; ++i) {
      const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO while no reader
      if (fd >= 0) {
        ::close(fd);  // the reader wakes and reads end-of-file
        sawReader_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::string path_;
  std::atomic<bool> stop_{false}, sawReader_{false};
  std::thread thread_;
};

void expectFifoRefused(const std::string& fifo, const std::function<std::string()>& attempt) {
  FifoUnblocker unblocker(fifo);
  const std::string e = attempt();
  EXPECT_NE(e.find(fifo + " is a FIFO, not a regular file"), std::string::npos) << e;
  EXPECT_FALSE(unblocker.sawReader()) << "something opened " << fifo;
}

TEST(HostileCheckpoints, FifosInPlaceOfModelFilesAreRefusedUnopened) {
  {
    TempDir dir;
    const std::string folder = exportTiny(dir);
    makeFifo(folder + "/config.json");
    expectFifoRefused(folder + "/config.json", [&] { return describeError(folder); });
  }
  {
    TempDir dir;
    const std::string folder = exportTiny(dir);
    makeFifo(folder + "/model.safetensors");
    expectFifoRefused(folder + "/model.safetensors", [&] { return describeError(folder); });
  }
  {
    TempDir dir;
    const std::string folder = exportTiny(dir, 3000);
    makeFifo(folder + "/model.safetensors.index.json");
    expectFifoRefused(folder + "/model.safetensors.index.json",
                      [&] { return describeError(folder); });
  }
  {
    TempDir dir;
    const std::string folder = exportTiny(dir, 3000);
    ASSERT_GE(shards(folder).size(), 3u);
    const std::string shard = shards(folder)[1];
    makeFifo(shard);
    expectFifoRefused(shard, [&] { return describeError(folder); });
  }
  {
    TempDir dir;
    makeFifo(dir.file("m.bin"));
    expectFifoRefused(dir.file("m.bin"), [&] { return describeError(dir.file("m.bin")); });
    expectFifoRefused(dir.file("m.bin"), [&] {
      return errorOf([&] { loadModel(dir.file("m.bin"), LoadOptions{}); });
    });
  }
}

// The parts of a safetensors file: header JSON text and data bytes.
struct Safetensors {
  std::string header, data;
};

Safetensors split(const std::string& path) {
  const std::string bytes = test::readFile(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  return {bytes.substr(8, n), bytes.substr(8 + n)};
}

// Writes header text (with `lengthDelta` added to the length field) and data.
void join(const std::string& path, const std::string& header, const std::string& data,
          int64_t lengthDelta = 0) {
  std::string bytes(8, '\0');
  const uint64_t length = header.size() + lengthDelta;
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(length >> (8 * i));
  test::writeFile(path, bytes + header + data);
}

// Every tensor's data_offsets moved by delta.
std::string shiftOffsets(const std::string& header, int64_t delta) {
  nlohmann::json h = nlohmann::json::parse(header);
  for (auto& [name, entry] : h.items()) {
    if (name == "__metadata__") continue;
    for (auto& offset : entry["data_offsets"]) offset = offset.get<int64_t>() + delta;
  }
  return h.dump();
}

TEST(HostileCheckpoints, ShiftedDataOffsetsAreRefusedNamingTheTensor) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  const std::string file = folder + "/model.safetensors";
  const Safetensors good = split(file);
  // Shifted by 4 with 4 bytes appended: every tensor inside the file, each read 4 bytes late.
  join(file, shiftOffsets(good.header, 4), good.data + std::string(4, '\0'));
  std::string e = describeError(folder);
  EXPECT_NE(e.find("corrupt safetensors file " + file +
                   ": tensor 'model.embed_tokens.weight' begins at data byte 4, but the first "
                   "tensor must begin at byte 0"),
            std::string::npos)
      << e;
  // One tensor moved onto its neighbour: an overlap (and a gap), named with both tensors.
  nlohmann::json h = nlohmann::json::parse(good.header);
  h["model.norm.weight"]["data_offsets"] =
      h["model.layers.1.input_layernorm.weight"]["data_offsets"];
  join(file, h.dump(), good.data);
  e = describeError(folder);
  EXPECT_NE(e.find("overlap"), std::string::npos) << e;
  EXPECT_NE(e.find("'model.norm.weight'"), std::string::npos) << e;
}

TEST(HostileCheckpoints, ShiftedOffsetsInOneShardNameThatShard) {
  TempDir dir;
  const std::string folder = exportTiny(dir, 3000);
  ASSERT_GE(shards(folder).size(), 3u);
  const std::string shard = shards(folder)[2];
  const Safetensors good = split(shard);
  join(shard, shiftOffsets(good.header, 4), good.data + std::string(4, '\0'));
  const std::string e = describeError(folder);
  EXPECT_NE(e.find("corrupt safetensors file " + shard + ": tensor '"), std::string::npos) << e;
  EXPECT_NE(e.find("begins at data byte 4, but the first tensor must begin at byte 0"),
            std::string::npos)
      << e;
}

TEST(HostileCheckpoints, HeaderLengthThatDoesNotEndTheJsonIsRefused) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  const std::string file = folder + "/model.safetensors";
  const Safetensors good = split(file);
  const std::string json = nlohmann::json::parse(good.header).dump();
  // Length 4 short of a space-padded header: the JSON still parses, the data starts 4 bytes early.
  join(file, json + std::string(8, ' '), good.data, -4);
  std::string e = describeError(folder);
  EXPECT_NE(e.find("its tensors fill data bytes 0.." + std::to_string(good.data.size()) +
                   " but the file holds " + std::to_string(good.data.size() + 4) +
                   " bytes of data after its header: 4 bytes belong to no tensor"),
            std::string::npos)
      << e;
  // Padding other than spaces (JSON would accept a newline and tabs; the format does not).
  join(file, json + "\n\t\t ", good.data);
  e = describeError(folder);
  EXPECT_NE(e.find("the JSON header does not end there (only spaces may follow"), std::string::npos)
      << e;
  // Space padding as the reference writer makes it stays valid.
  join(file, json + std::string(5, ' '), good.data);
  EXPECT_EQ(describeError(folder), "(no error)");
}

TEST(HostileCheckpoints, MalformedHeaderNumbersAreNamed) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  const std::string file = folder + "/model.safetensors";
  const Safetensors good = split(file);
  auto withEntry = [&](const char* field, const nlohmann::json& value) {
    nlohmann::json h = nlohmann::json::parse(good.header);
    h["model.norm.weight"][field] = value;
    join(file, h.dump(), good.data);
    return describeError(folder);
  };
  std::string e = withEntry("shape", nlohmann::json::array({16.5}));
  EXPECT_NE(e.find("tensor 'model.norm.weight' in " + file +
                   " is malformed: each dimension of "
                   "its shape must be a whole number, got 16.5"),
            std::string::npos)
      << e;
  e = withEntry("data_offsets", nlohmann::json::array({"0", "64"}));
  EXPECT_NE(e.find("each of its data_offsets must be a whole number"), std::string::npos) << e;
  e = withEntry("data_offsets",
                nlohmann::json::array({uint64_t{1} << 63, (uint64_t{1} << 63) + 64}));
  EXPECT_NE(e.find("must be a whole number"), std::string::npos) << e;
}

// config.json with one field replaced: the message names the field and what it must be.
TEST(HostileCheckpoints, ConfigFieldsOfTheWrongTypeOrRangeAreNamed) {
  TempDir dir;
  const std::string folder = exportTiny(dir);
  const nlohmann::json good = nlohmann::json::parse(test::readFile(folder + "/config.json"));
  struct Case {
    const char* field;
    nlohmann::json value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"rms_norm_eps", 1e300, "\"rms_norm_eps\" must be a number in (0, 0.1], got 1e+300"},
      {"rms_norm_eps", 0, "\"rms_norm_eps\" must be a number in (0, 0.1], got 0"},
      {"rms_norm_eps", "1e-5", "\"rms_norm_eps\" must be a number in (0, 0.1], got \"1e-5\""},
      {"rope_theta", 1e300, "\"rope_theta\" must be a number in (0, 1000000000000.0]"},
      {"rope_theta", -10000, "\"rope_theta\" must be a number in (0, 1000000000000.0]"},
      {"tie_word_embeddings", "true",
       "\"tie_word_embeddings\" must be true or false (a JSON boolean), got \"true\""},
      {"tie_word_embeddings", 1, "\"tie_word_embeddings\" must be true or false"},
      {"attention_bias", "false", "\"attention_bias\" must be true or false"},
      {"mlp_bias", true, "mlp_bias is not supported"},
      {"hidden_size", 16.5, "\"hidden_size\" must be a whole number in 1..65536, got 16.5"},
      {"hidden_size", true, "\"hidden_size\" must be a whole number in 1..65536, got true"},
      {"hidden_size", 1 << 20, "\"hidden_size\" must be a whole number in 1..65536"},
      {"hidden_size", 18, "\"hidden_size\" 18 is not divisible by \"num_attention_heads\" 4"},
      {"intermediate_size", -40, "\"intermediate_size\" must be a whole number in 1..262144"},
      {"num_hidden_layers", 100000, "\"num_hidden_layers\" must be a whole number in 1..1024"},
      {"num_attention_heads", "4", "\"num_attention_heads\" must be a whole number in 1..1024"},
      {"num_key_value_heads", 3,
       "\"num_attention_heads\" 4 is not a multiple of \"num_key_value_heads\" 3"},
      {"num_key_value_heads", 8,
       "\"num_attention_heads\" 4 is not a multiple of \"num_key_value_heads\" 8"},
      {"vocab_size", 0, "\"vocab_size\" must be a whole number in 1..4194304, got 0"},
      {"max_position_embeddings", 1e9, "\"max_position_embeddings\" must be a whole number"},
      {"max_position_embeddings", uint64_t{1} << 63,
       "\"max_position_embeddings\" must be a whole number in 1..1048576"},
      {"head_dim", "4", "\"head_dim\" must be a whole number in 1..4096, got \"4\""},
      {"head_dim", 5, "\"head_dim\" 5 must be even for RoPE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.field) + " = " + c.value.dump());
    nlohmann::json config = good;
    config[c.field] = c.value;
    test::writeFile(folder + "/config.json", config.dump());
    const std::string e = describeError(folder);
    EXPECT_NE(e.find(folder + "/config.json"), std::string::npos) << e;
    EXPECT_NE(e.find(c.expected), std::string::npos) << e;
  }
}

TEST(HostileCheckpoints, ModelConfigRefusesNonsenseEpsAndTheta) {
  ModelConfig c = test::tinyModelConfig(true);
  c.normEps = 1e30f;
  EXPECT_NE(errorOf([&] { c.validate(); }).find("norm_eps must be in (0, 0.1], got 1e+30"),
            std::string::npos);
  c.normEps = 1e-5f;
  c.ropeTheta = std::numeric_limits<float>::infinity();
  EXPECT_NE(errorOf([&] { c.validate(); }).find("rope_theta must be a finite number"),
            std::string::npos);
  c.ropeTheta = 10000.0f;
  c.nLayers = 5000;
  EXPECT_NE(errorOf([&] { c.validate(); }).find("n_layers must be in 1..1024, got 5000"),
            std::string::npos);
}

// A tiny llama2.c file of the given format with bytes [at, at + size) of its header replaced.
std::string llama2cWith(const TempDir& dir, Llama2cFormat format, size_t at,
                        const std::string& replacement) {
  const ModelConfig c = test::tinyModelConfig(true);
  const std::string path = dir.file("m.bin");
  fs::remove(path);
  writeLlama2cCheckpoint(path, c, randomWeights(c, 1), format);
  std::string bytes = test::readFile(path);
  bytes.replace(at, replacement.size(), replacement);
  test::writeFile(path, bytes);
  return path;
}

std::string int32Bytes(int32_t value) {
  return std::string(reinterpret_cast<const char*>(&value), 4);
}

TEST(HostileCheckpoints, Llama2cHeaderFieldsAreCheckedWithTheSameRigour) {
  TempDir dir;
  auto error = [&](Llama2cFormat format, size_t at, const std::string& bytes) {
    const std::string path = llama2cWith(dir, format, at, bytes);
    return errorOf([&] { readLlama2cCheckpoint(path); });
  };
  EXPECT_EQ(error(Llama2cFormat::kAk42V1, 36, std::string(1, '\1')), "(no error)");  // valid
  std::string e = error(Llama2cFormat::kAk42V1, 36, std::string(1, '\2'));
  EXPECT_NE(e.find("its ak42 header's shared-classifier byte is 2, not 0 or 1"), std::string::npos)
      << e;
  e = error(Llama2cFormat::kAk42V1, 200, "x");
  EXPECT_NE(e.find("its ak42 header has byte 200 set where export.py writes zero padding"),
            std::string::npos)
      << e;
  e = error(Llama2cFormat::kLegacy, 0, int32Bytes(70000));  // dim
  EXPECT_NE(e.find("its header says dim = 70000, outside 1..65536"), std::string::npos) << e;
  e = error(Llama2cFormat::kLegacy, 8, int32Bytes(2000));  // n_layers
  EXPECT_NE(e.find("its header says n_layers = 2000, outside 1..1024"), std::string::npos) << e;
  e = error(Llama2cFormat::kAk42V1, 8 + 4 * 4, int32Bytes(0));  // n_kv_heads
  EXPECT_NE(e.find("its header says n_kv_heads = 0, outside 1..1024"), std::string::npos) << e;
  e = error(Llama2cFormat::kLegacy, 12, int32Bytes(3));  // n_heads: 16 % 3 != 0
  EXPECT_NE(e.find("dim 16 is not divisible by n_heads 3"), std::string::npos) << e;
}

TEST(HostileCheckpoints, MappedLlama2cLoadGivesTheSameModel) {
  TempDir dir;
  const ModelConfig c = test::tinyModelConfig(false);
  const StackedWeights w = randomWeights(c, 9);
  writeLlama2cCheckpoint(dir.file("m.bin"), c, w, Llama2cFormat::kLegacy);
  const LlamaModel reference(c, fuseWeights(c, w));
  LoadOptions options;
  const auto loaded = loadModel(dir.file("m.bin"), options);
  // The file may go away once loaded: the model holds copies, not views of the mapping.
  fs::remove(dir.file("m.bin"));
  KvCache a = reference.makeCache(), b = loaded->makeCache();
  const std::vector<int> tokens = {1, 5, 9, 30};
  EXPECT_TRUE(at::equal(reference.forward(tokens, a, LogitsMode::kAll),
                        loaded->forward(tokens, b, LogitsMode::kAll)));
  options.dtype = at::kBFloat16;
  writeLlama2cCheckpoint(dir.file("m.bin"), c, w, Llama2cFormat::kAk42V1);
  EXPECT_EQ(loadModel(dir.file("m.bin"), options)->weightBytes(), c.parameterCount() * 2);
}

}  // namespace
}  // namespace kvs
