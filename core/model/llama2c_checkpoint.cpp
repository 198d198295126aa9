#include "model/llama2c_checkpoint.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "io/output_path.h"
#include "util/error.h"

namespace kvs {
namespace {

// A read-only private mapping of a whole checkpoint, unmapped when the last view is gone.
struct FileMapping {
  void* data = nullptr;
  size_t size = 0;
  ~FileMapping() {
    if (data) munmap(data, size);
  }
};

constexpr uint32_t kAk42Magic = 0x616b3432;  // "ak42" as written by export.py
constexpr int64_t kLegacyHeaderBytes = 7 * 4;
constexpr int64_t kAk42HeaderBytes = 256;

// The tensors of a checkpoint in file order, by run.c's names; a null tensor marks run.c's unused
// freq_cis tables.
struct Entry {
  const char* name;
  at::Tensor* tensor;  // nullptr: bytes to skip
  std::vector<int64_t> shape;
};

std::vector<Entry> fileLayout(const ModelConfig& c, Llama2cFormat format, StackedWeights& w) {
  const int64_t L = c.nLayers, C = c.dim, F = c.hiddenDim, V = c.vocabSize;
  const int64_t q = int64_t{c.nHeads} * c.headDim(), kv = c.kvDim();
  std::vector<Entry> e = {{"token_embedding_table", &w.embedding, {V, C}},
                          {"rms_att_weight", &w.attnNorm, {L, C}},
                          {"wq", &w.wq, {L, q, C}},
                          {"wk", &w.wk, {L, kv, C}},
                          {"wv", &w.wv, {L, kv, C}},
                          {"wo", &w.wo, {L, C, q}},
                          {"rms_ffn_weight", &w.ffnNorm, {L, C}},
                          {"w1", &w.w1, {L, F, C}},
                          {"w2", &w.w2, {L, C, F}},
                          {"w3", &w.w3, {L, F, C}},
                          {"rms_final_weight", &w.finalNorm, {C}}};
  if (format == Llama2cFormat::kLegacy) {
    e.push_back({"freq_cis", nullptr, {int64_t{c.seqLen} * c.headDim()}});  // real + imag parts
  } else {
    // export.py's version 1 writes the same tensors with the three norms moved to the front.
    std::stable_partition(e.begin(), e.end(),
                          [](const Entry& x) { return std::strncmp(x.name, "rms_", 4) == 0; });
  }
  if (!c.sharedClassifier) e.push_back({"wcls", &w.classifier, {V, C}});
  return e;
}

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int64_t headerBytes(Llama2cFormat f) {
  return f == Llama2cFormat::kLegacy ? kLegacyHeaderBytes : kAk42HeaderBytes;
}

std::string mib(int64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld bytes (%.1f MiB)", static_cast<long long>(bytes),
                bytes / 1048576.0);
  return buf;
}

}  // namespace

const char* toString(Llama2cFormat format) {
  return format == Llama2cFormat::kLegacy ? "llama2.c legacy (v0)" : "llama2.c ak42 v1";
}

int64_t llama2cFileSize(const ModelConfig& config, Llama2cFormat format) {
  StackedWeights scratch;
  int64_t floats = 0;
  for (const auto& e : fileLayout(config, format, scratch)) floats += elements(e.shape);
  return headerBytes(format) + 4 * floats;
}

Llama2cCheckpoint readLlama2cHeader(const std::string& path) {
  namespace fs = std::filesystem;
  namespace limits = model_limits;
  std::error_code ec;
  require(fs::exists(path, ec),
          "model file not found: " + path + "; give the path of a llama2.c .bin checkpoint");
  requireRegularFile(path, "model file");  // a FIFO would block the read forever
  const int64_t size = static_cast<int64_t>(fs::file_size(path, ec));
  require(!ec, "cannot read the size of model file " + path + ": " + ec.message());
  const std::string notCheckpoint = "not a llama2.c checkpoint: " + path;
  require(size >= kLegacyHeaderBytes,
          notCheckpoint + " is " + std::to_string(size) + " bytes, shorter than any header");

  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open model file " + path + ": " + std::strerror(errno));
  unsigned char head[kAk42HeaderBytes] = {};
  in.read(reinterpret_cast<char*>(head), std::min<int64_t>(size, kAk42HeaderBytes));
  require(in.gcount() == std::min<int64_t>(size, kAk42HeaderBytes),
          "cannot read the header of model file " + path + " (file changed while reading?)");

  Llama2cCheckpoint ckpt;
  int32_t ints[7];
  uint32_t magic;
  std::memcpy(&magic, head, 4);
  if (magic == kAk42Magic) {
    int32_t version;
    std::memcpy(&version, head + 4, 4);
    require(version == 1, "unsupported llama2.c checkpoint version " + std::to_string(version) +
                              " in " + path +
                              ": only float32 files (export.py --version 1, or legacy) are "
                              "supported; version 2 is int8-quantized");
    require(size >= kAk42HeaderBytes, notCheckpoint + ": ak42 header is truncated");
    std::memcpy(ints, head + 8, sizeof ints);
    ckpt.format = Llama2cFormat::kAk42V1;
    // export.py writes the flag as one byte, 0 or 1, then zeros up to byte 256: anything else is
    // another format (or corruption), and reading on would take the wrong bytes as weights.
    require(head[36] <= 1, notCheckpoint + " (its ak42 header's shared-classifier byte is " +
                               std::to_string(head[36]) + ", not 0 or 1)");
    ckpt.config.sharedClassifier = head[36] == 1;
    const auto* nonZero =
        std::find_if(head + 37, head + kAk42HeaderBytes, [](unsigned char b) { return b != 0; });
    require(nonZero == head + kAk42HeaderBytes,
            notCheckpoint + " (its ak42 header has byte " + std::to_string(nonZero - head) +
                " set where export.py writes zero padding; another version of the format?)");
  } else {
    std::memcpy(ints, head, sizeof ints);
    ckpt.format = Llama2cFormat::kLegacy;
    ckpt.config.sharedClassifier = ints[5] > 0;
    if (ints[5] < 0 && ints[5] > INT32_MIN) ints[5] = -ints[5];
  }
  ModelConfig& c = ckpt.config;
  c.dim = ints[0];
  c.hiddenDim = ints[1];
  c.nLayers = ints[2];
  c.nHeads = ints[3];
  c.nKvHeads = ints[4];
  c.vocabSize = ints[5];
  c.seqLen = ints[6];
  c.ropeStyle = RopeStyle::kAdjacentPairs;
  // The same bounds as config.json's (model_limits), under the header's own names; they keep the
  // size arithmetic below in int64 and reject garbage.
  const char* names[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                          "n_kv_heads", "vocab_size", "seq_len"};
  const int maxima[7] = {limits::kMaxDim,   limits::kMaxHiddenDim, limits::kMaxLayers,
                         limits::kMaxHeads, limits::kMaxHeads,     limits::kMaxVocab,
                         limits::kMaxSeqLen};
  for (int i = 0; i < 7; ++i) {
    require(ints[i] > 0 && ints[i] <= maxima[i],
            notCheckpoint + " (its header says " + names[i] + " = " + std::to_string(ints[i]) +
                ", outside 1.." + std::to_string(maxima[i]) + ")");
  }
  try {
    c.validate();  // dim divisible by n_heads, n_heads by n_kv_heads, an even head dim
  } catch (const KvsError& e) {
    throw KvsError(notCheckpoint + ": " + e.what());
  }
  const int64_t expected = llama2cFileSize(c, ckpt.format);
  require(size >= expected, "truncated model file " + path + ": the header (" +
                                toString(ckpt.format) + ") implies " + mib(expected) +
                                " but the file has " + mib(size) + "; download or export it again");
  require(size <= expected, "model file " + path + " is larger than its header implies: " +
                                mib(size) + " instead of " + mib(expected) +
                                " (wrong format, or not a llama2.c float32 checkpoint)");
  return ckpt;
}

Llama2cCheckpoint readLlama2cCheckpoint(const std::string& path) {
  Llama2cCheckpoint ckpt = readLlama2cHeader(path);
  const int64_t expected = llama2cFileSize(ckpt.config, ckpt.format);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  require(fd >= 0, "cannot open model file " + path + ": " + std::strerror(errno));
  struct stat st {};
  const bool sameFile = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == expected;
  auto mapping = std::make_shared<FileMapping>();
  if (sameFile) {
    void* data = mmap(nullptr, expected, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data != MAP_FAILED) {
      mapping->data = data;
      mapping->size = expected;
    }
  }
  const int mapErrno = errno;
  ::close(fd);
  require(sameFile, "model file " + path + " changed while loading; load it again");
  require(mapping->data,
          "cannot map model file " + path + " into memory: " + std::strerror(mapErrno));
  // Views of the mapping, no copy: the pages are read when first used (a load that fuses them
  // copies each once), and the mapping lives as long as any view.
  int64_t offset = headerBytes(ckpt.format);
  for (const auto& e : fileLayout(ckpt.config, ckpt.format, ckpt.weights)) {
    const int64_t bytes = 4 * elements(e.shape);
    if (e.tensor) {
      auto keep = mapping;
      *e.tensor = at::from_blob(
          static_cast<char*>(mapping->data) + offset, e.shape,
          [keep](void*) mutable { keep.reset(); }, at::TensorOptions(at::kFloat));
    }
    offset += bytes;
  }
  return ckpt;
}

void writeLlama2cCheckpoint(const std::string& path, const ModelConfig& config,
                            const StackedWeights& weights, Llama2cFormat format) {
  StackedWeights w = weights;
  const std::string tmp = path + ".part";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  require(out.good(), "cannot write " + path + ": " + std::strerror(errno) +
                          " (check that the folder exists and is writable)");
  // Removes the partial file on any failure, so no half-written checkpoint is left behind.
  struct PartialFile {
    std::string path;
    bool done = false;
    ~PartialFile() {
      std::error_code ec;
      if (!done) std::filesystem::remove(path, ec);
    }
  } partial{tmp};
  auto writeInts = [&](const std::vector<int32_t>& v) {
    out.write(reinterpret_cast<const char*>(v.data()), 4 * v.size());
  };
  const int32_t vocab = config.vocabSize;
  if (format == Llama2cFormat::kLegacy) {
    writeInts({config.dim, config.hiddenDim, config.nLayers, config.nHeads, config.nKvHeads,
               config.sharedClassifier ? vocab : -vocab, config.seqLen});
  } else {
    std::vector<char> header(kAk42HeaderBytes, 0);
    const int32_t ints[9] = {static_cast<int32_t>(kAk42Magic),
                             1,
                             config.dim,
                             config.hiddenDim,
                             config.nLayers,
                             config.nHeads,
                             config.nKvHeads,
                             vocab,
                             config.seqLen};
    std::memcpy(header.data(), ints, sizeof ints);
    header[36] = config.sharedClassifier ? 1 : 0;
    out.write(header.data(), header.size());
  }
  for (const auto& e : fileLayout(config, format, w)) {
    at::Tensor t = e.tensor ? e.tensor->to(at::kFloat).contiguous()
                            : at::zeros({elements(e.shape)}, at::kFloat);
    require(t.numel() == elements(e.shape), "writeLlama2cCheckpoint: a tensor has the wrong size");
    out.write(static_cast<const char*>(t.data_ptr()), 4 * t.numel());
  }
  out.close();
  require(out.good(), "error writing " + path + " (disk full?)");
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  require(!ec, "cannot move the finished file to " + path + ": " + ec.message());
  partial.done = true;
}

// ---- the CheckpointReader --------------------------------------------------------------------

Llama2cReader::Llama2cReader(const std::string& path)
    : path_(path), ckpt_(readLlama2cCheckpoint(path)) {}

at::Tensor Llama2cReader::tensor(const std::string& name) const {
  // fileLayout names the tensors; its pointers go into a copy, whose tensors share the mapping.
  StackedWeights w = ckpt_.weights;
  for (const Entry& e : fileLayout(ckpt_.config, ckpt_.format, w)) {
    if (e.tensor && name == e.name) return *e.tensor;
  }
  throw KvsError("tensor '" + name + "' is not in " + path_ +
                 " (a llama2.c checkpoint's tensors go by run.c's names: wq, wk, wv, ...)");
}

int64_t Llama2cReader::loadBytes(at::ScalarType dtype, bool /*includeViews*/) const {
  return ckpt_.config.parameterCount() * static_cast<int64_t>(c10::elementSize(dtype));
}

LlamaWeights Llama2cReader::toLlamaWeights(at::ScalarType dtype,
                                           const LayerProgress& progress) const {
  return fuseWeights(ckpt_.config, ckpt_.weights, progress, dtype);
}

bool recognisesLlama2cCheckpoint(const std::string& path) {
  std::error_code ec;
  return !std::filesystem::is_directory(path, ec);
}

std::unique_ptr<CheckpointReader> openLlama2cCheckpoint(const std::string& path) {
  return std::make_unique<Llama2cReader>(path);
}

}  // namespace kvs
