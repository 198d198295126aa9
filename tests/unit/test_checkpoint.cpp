// llama2.c checkpoint reading and writing: both formats, round trips, and every kind of bad file;
// the format table that picks a CheckpointReader for a path.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "model/checkpoint_formats.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

using test::TempDir;

ModelConfig tinyConfig(bool shared = true) {
  return test::tinyModelConfig(shared);
}

void expectSameWeights(const StackedWeights& a, const StackedWeights& b) {
  EXPECT_TRUE(at::equal(a.embedding, b.embedding));
  EXPECT_TRUE(at::equal(a.attnNorm, b.attnNorm));
  EXPECT_TRUE(at::equal(a.wq, b.wq));
  EXPECT_TRUE(at::equal(a.wk, b.wk));
  EXPECT_TRUE(at::equal(a.wv, b.wv));
  EXPECT_TRUE(at::equal(a.wo, b.wo));
  EXPECT_TRUE(at::equal(a.ffnNorm, b.ffnNorm));
  EXPECT_TRUE(at::equal(a.w1, b.w1));
  EXPECT_TRUE(at::equal(a.w2, b.w2));
  EXPECT_TRUE(at::equal(a.w3, b.w3));
  EXPECT_TRUE(at::equal(a.finalNorm, b.finalNorm));
  EXPECT_EQ(a.classifier.defined(), b.classifier.defined());
  if (a.classifier.defined()) EXPECT_TRUE(at::equal(a.classifier, b.classifier));
}

std::string errorOf(const std::string& path) {
  try {
    readLlama2cCheckpoint(path);
  } catch (const KvsError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Checkpoint, Stories260KSizeMatchesTheKnownFileSize) {
  ModelConfig c;
  c.dim = 64, c.hiddenDim = 172, c.nLayers = 5, c.nHeads = 8, c.nKvHeads = 4;
  c.vocabSize = 512, c.seqLen = 512;
  EXPECT_EQ(llama2cFileSize(c, Llama2cFormat::kLegacy), 1056540);  // shared/models/README.md
  EXPECT_EQ(llama2cFileSize(c, Llama2cFormat::kAk42V1), 1056540 - 28 - 16384 + 256);
}

TEST(Checkpoint, RoundTripsBothFormatsSharedAndUnshared) {
  TempDir dir;
  for (auto format : {Llama2cFormat::kLegacy, Llama2cFormat::kAk42V1}) {
    for (bool shared : {true, false}) {
      SCOPED_TRACE(std::string(toString(format)) + (shared ? " shared" : " unshared"));
      const ModelConfig c = tinyConfig(shared);
      const StackedWeights w = randomWeights(c, 7);
      const std::string path = dir.file("m.bin");
      writeLlama2cCheckpoint(path, c, w, format);
      EXPECT_EQ(std::filesystem::file_size(path), llama2cFileSize(c, format));
      const Llama2cCheckpoint read = readLlama2cCheckpoint(path);
      EXPECT_EQ(read.format, format);
      EXPECT_EQ(read.config.dim, 16);
      EXPECT_EQ(read.config.hiddenDim, 40);
      EXPECT_EQ(read.config.nLayers, 2);
      EXPECT_EQ(read.config.nHeads, 4);
      EXPECT_EQ(read.config.nKvHeads, 2);  // GQA
      EXPECT_EQ(read.config.vocabSize, 32);
      EXPECT_EQ(read.config.seqLen, 24);
      EXPECT_EQ(read.config.sharedClassifier, shared);
      expectSameWeights(read.weights, w);
    }
  }
}

TEST(Checkpoint, LegacyNegativeVocabMeansUnsharedClassifier) {
  TempDir dir;
  const ModelConfig c = tinyConfig(false);
  writeLlama2cCheckpoint(dir.file("m.bin"), c, randomWeights(c, 1), Llama2cFormat::kLegacy);
  const std::string bytes = test::readFile(dir.file("m.bin"));
  int32_t vocab;
  std::memcpy(&vocab, bytes.data() + 20, 4);
  EXPECT_EQ(vocab, -32);
}

TEST(Checkpoint, MissingFileIsNamed) {
  EXPECT_NE(errorOf("/nonexistent/model.bin").find("model file not found: /nonexistent/model.bin"),
            std::string::npos);
}

TEST(Checkpoint, TruncatedFileIsRefused) {
  TempDir dir;
  const ModelConfig c = tinyConfig();
  const std::string path = dir.file("m.bin");
  writeLlama2cCheckpoint(path, c, randomWeights(c, 1), Llama2cFormat::kLegacy);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
  EXPECT_NE(errorOf(path).find("truncated model file"), std::string::npos) << errorOf(path);
}

TEST(Checkpoint, OversizedFileIsRefused) {
  TempDir dir;
  const ModelConfig c = tinyConfig();
  const std::string path = dir.file("m.bin");
  writeLlama2cCheckpoint(path, c, randomWeights(c, 1), Llama2cFormat::kAk42V1);
  std::ofstream(path, std::ios::app | std::ios::binary) << "extra";
  EXPECT_NE(errorOf(path).find("larger than its header implies"), std::string::npos)
      << errorOf(path);
}

TEST(Checkpoint, TextFileIsNotACheckpoint) {
  TempDir dir;
  test::writeFile(dir.file("notes.txt"), "These are some notes, not a model. Really not at all.\n");
  EXPECT_NE(errorOf(dir.file("notes.txt")).find("not a llama2.c checkpoint"), std::string::npos)
      << errorOf(dir.file("notes.txt"));
  test::writeFile(dir.file("tiny.bin"), "abc");
  EXPECT_NE(errorOf(dir.file("tiny.bin")).find("shorter than any header"), std::string::npos);
}

TEST(Checkpoint, QuantizedVersion2IsRefusedWithReason) {
  TempDir dir;
  std::string bytes(300, '\0');
  const int32_t head[2] = {0x616b3432, 2};
  std::memcpy(bytes.data(), head, sizeof head);
  test::writeFile(dir.file("q8.bin"), bytes);
  EXPECT_NE(errorOf(dir.file("q8.bin")).find("version 2 is int8-quantized"), std::string::npos);
}

TEST(Checkpoint, InconsistentHeadsAreRefused) {
  TempDir dir;
  std::string bytes(28, '\0');
  const int32_t header[7] = {64, 172, 5, 8, 3, 512, 512};  // 8 heads, 3 kv heads
  std::memcpy(bytes.data(), header, sizeof header);
  test::writeFile(dir.file("m.bin"), bytes);
  EXPECT_NE(errorOf(dir.file("m.bin")).find("not a multiple of n_kv_heads"), std::string::npos);
}

TEST(Checkpoint, FuseWeightsNamesAWrongShape) {
  const ModelConfig c = tinyConfig();
  StackedWeights w = randomWeights(c, 1);
  w.wk = at::zeros({2, 9, 16});
  try {
    fuseWeights(c, w);
    FAIL() << "expected an error";
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("'wk' has shape [2, 9, 16], expected [2, 8, 16]"),
              std::string::npos)
        << e.what();
  }
}

TEST(Checkpoint, UnwritableOutputIsReported) {
  const ModelConfig c = tinyConfig();
  try {
    writeLlama2cCheckpoint("/nonexistent-dir/m.bin", c, randomWeights(c, 1),
                           Llama2cFormat::kLegacy);
    FAIL() << "expected an error";
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write /nonexistent-dir/m.bin"), std::string::npos);
  }
}

TEST(Checkpoint, FailedWriteLeavesNoPartialFile) {
  TempDir dir;
  const ModelConfig c = tinyConfig();
  StackedWeights w = randomWeights(c, 1);
  w.w2 = at::zeros({1});  // wrong size: the writer fails midway
  EXPECT_THROW(writeLlama2cCheckpoint(dir.file("m.bin"), c, w, Llama2cFormat::kLegacy), KvsError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.bin")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.bin.part")));
}

TEST(Checkpoint, HeaderErrorsNameTheField) {
  TempDir dir;
  std::string bytes(28, '\0');
  const int32_t header[7] = {64, 172, 5, 8, 4, 512, 50000000};
  std::memcpy(bytes.data(), header, sizeof header);
  test::writeFile(dir.file("m.bin"), bytes);
  EXPECT_NE(errorOf(dir.file("m.bin")).find("seq_len = 50000000"), std::string::npos)
      << errorOf(dir.file("m.bin"));
  const int32_t minVocab[7] = {64, 172, 5, 8, 4, INT32_MIN, 512};
  std::memcpy(bytes.data(), minVocab, sizeof minVocab);
  test::writeFile(dir.file("m.bin"), bytes);
  EXPECT_NE(errorOf(dir.file("m.bin")).find("vocab_size"), std::string::npos);
}

// ---- the format table ----------------------------------------------------------------------

TEST(CheckpointFormats, TheTableChoosesTheReaderForThePath) {
  TempDir dir;
  const ModelConfig c = tinyConfig(false);
  const StackedWeights w = randomWeights(c, 5);
  writeLlama2cCheckpoint(dir.file("m.bin"), c, w, Llama2cFormat::kAk42V1);
  writeHfCheckpoint(dir.file("hf"), c, w, HfExportOptions{});
  struct Case {
    std::string path, format, readerPath, formatName;
  };
  const Case cases[] = {
      {dir.file("m.bin"), "llama2.c", dir.file("m.bin"), "llama2.c ak42 v1"},
      {dir.file("hf"), "Hugging Face", dir.file("hf"), "Hugging Face safetensors (1 file)"},
      // A file of the folder (as a file picker gives it) opens the folder.
      {dir.file("hf/config.json"), "Hugging Face", dir.file("hf"), ""},
      {dir.file("hf/model.safetensors"), "Hugging Face", dir.file("hf"), ""},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.path);
    const CheckpointFormat& format = checkpointFormatFor(k.path);
    EXPECT_EQ(format.name, k.format);
    const std::unique_ptr<CheckpointReader> reader = format.open(k.path);
    EXPECT_EQ(reader->path(), k.readerPath);
    if (!k.formatName.empty()) EXPECT_EQ(reader->formatName(), k.formatName);
    EXPECT_EQ(reader->config().nKvHeads, c.nKvHeads);
    EXPECT_EQ(reader->storedDtype(), at::kFloat);
    EXPECT_EQ(reader->weightBytes(), c.parameterCount() * 4);
    // The final norm [C] is stored as is by both formats (only q/k are permuted for HF).
    const char* norm = k.format == "llama2.c" ? "rms_final_weight" : "model.norm.weight";
    EXPECT_TRUE(at::equal(reader->tensor(norm), w.finalNorm));
  }
}

TEST(CheckpointFormats, Llama2cReaderGoesByRunCNamesAndCopiesEveryTensor) {
  TempDir dir;
  const ModelConfig c = tinyConfig(false);
  const StackedWeights w = randomWeights(c, 6);
  writeLlama2cCheckpoint(dir.file("m.bin"), c, w, Llama2cFormat::kLegacy);
  const std::unique_ptr<CheckpointReader> reader = openLlama2cCheckpoint(dir.file("m.bin"));
  EXPECT_TRUE(at::equal(reader->tensor("wq"), w.wq));  // [L, Hq*D, C]
  EXPECT_TRUE(at::equal(reader->tensor("wcls"), w.classifier));
  EXPECT_TRUE(at::equal(reader->tensor("token_embedding_table"), w.embedding));
  for (const std::string bad : {"freq_cis", "model.norm.weight"}) {
    EXPECT_NE(test::errorOf([&] {
                reader->tensor(bad);
              }).find("tensor '" + bad + "' is not in " + dir.file("m.bin")),
              std::string::npos);
  }
  // Every tensor is a copy in the load dtype, views of the file or not.
  EXPECT_EQ(reader->loadBytes(at::kBFloat16, true), c.parameterCount() * 2);
  EXPECT_EQ(reader->loadBytes(at::kBFloat16, false), c.parameterCount() * 2);
  const LlamaWeights fused = reader->toLlamaWeights(at::kBFloat16);
  EXPECT_EQ(fused.layers.at(1).w13.scalar_type(), at::kBFloat16);  // [2F, C]: gate, then up
  EXPECT_TRUE(at::equal(fused.layers[1].w13, at::cat({w.w1[1], w.w3[1]}).to(at::kBFloat16)));
}

TEST(CheckpointFormats, PathsNoFormatTakesGetTheExistingMessages) {
  TempDir dir;
  const std::string missing = test::errorOf([&] { checkpointFormatFor(dir.file("nothing")); });
  EXPECT_NE(missing.find("model not found: " + dir.file("nothing") +
                         "; give a llama2.c .bin file or a Hugging Face folder"),
            std::string::npos)
      << missing;
  std::filesystem::create_directories(dir.file("empty"));
  const std::string folder = test::errorOf([&] { checkpointFormatFor(dir.file("empty")); });
  EXPECT_NE(folder.find("has no config.json, so it is not a Hugging Face model folder"),
            std::string::npos)
      << folder;
  // Any other file is llama2.c's to refuse, saying why.
  test::writeFile(dir.file("notes.txt"), "hello, this is not a model at all");
  const CheckpointFormat& format = checkpointFormatFor(dir.file("notes.txt"));
  EXPECT_EQ(format.name, std::string("llama2.c"));
  EXPECT_NE(
      test::errorOf([&] { format.open(dir.file("notes.txt")); }).find("not a llama2.c checkpoint"),
      std::string::npos);
}

TEST(CheckpointFormats, NamesAreDistinct) {
  std::set<std::string> names;
  for (const CheckpointFormat& f : checkpointFormats()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_TRUE(f.recognises && f.open) << f.name;
  }
}

}  // namespace
}  // namespace kvs
