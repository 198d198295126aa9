#include "io/hdf5_recorder.h"

#include <ATen/ATen.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "cache/slot_map.h"
#include "io/disk_reservation.h"
#include "io/h5_util.h"
#include "io/recording_schema.h"
#include "io/slot_table.h"
#include "kvs/version.h"
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

struct Hdf5Recorder::StateSet {
  std::optional<H5::DataSet> dataset;
  at::Tensor stage;  // [Hkv, capacity, D] in the storage dtype: decode steps not yet written
};

struct Hdf5Recorder::LayerSets {
  StateSet keys, keysPrerope, values;
};

namespace {

constexpr int kTokenAxis = 1;  // states are [Hkv, T, D]

// The disk could not hold the next write; the recording stops before HDF5 sees an error.
struct DiskFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

std::string layerName(int layer) {
  char name[32];
  std::snprintf(name, sizeof name, "layer_%02d", layer);
  return name;
}

// Tokens per chunk: about 256 KiB per chunk, a power of two between 1 and 1024. A chunk spans all
// KV heads, so appending one token touches one chunk per dataset.
hsize_t tokensPerChunk(int64_t bytesPerToken) {
  hsize_t tokens = 1;
  while (tokens < 1024 && int64_t(tokens) * 2 * bytesPerToken <= 256 * 1024) tokens *= 2;
  return tokens;
}

// Creates the file for writing after checking the path, so errors name the real cause.
std::unique_ptr<H5::H5File> createFile(const RecordingOptions& options) {
  const fs::path path(options.path);
  require(!options.path.empty(), "no recording path given");
  std::error_code ec;
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  require(fs::is_directory(parent, ec), "cannot record to " + options.path + ": folder " +
                                            parent.string() +
                                            " does not exist; create it or choose another path");
  if (fs::exists(path, ec)) {
    require(!fs::is_directory(path, ec), "cannot record to " + options.path +
                                             ": it is a folder; name a file, e.g. " +
                                             (path / "run.h5").string());
    require(options.overwrite, "recording file " + options.path +
                                   " already exists; pass --force to overwrite it, or choose "
                                   "another path");
  }
  // Probe with the C library to report errno (permission denied, read-only file system...).
  if (std::FILE* probe = std::fopen(options.path.c_str(), "ab")) {
    std::fclose(probe);
  } else {
    throw KvsError("cannot write recording file " + options.path + ": " + std::strerror(errno) +
                   "; choose a writable path");
  }
  try {
    return std::make_unique<H5::H5File>(options.path, H5F_ACC_TRUNC);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot create HDF5 file " + options.path + ": " + e.getDetailMsg());
  }
}

const H5::StrType& utf8Type() {
  static const H5::StrType type = [] {
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    return t;
  }();
  return type;
}

// t in the storage dtype, contiguous on the CPU; copies only when it must.
at::Tensor storageCopy(const at::Tensor& t, StateStorage storage) {
  const auto dtype = storage == StateStorage::kFloat16 ? at::kHalf : at::kFloat;
  return t.to(at::kCPU, dtype).contiguous();
}

}  // namespace

Hdf5Recorder::Hdf5Recorder(const RecordingOptions& options, const RecordingMeta& meta)
    : options_(options), config_(meta.config) {
  options_.validate();
  h5::silenceErrorStack();
  file_ = createFile(options_);
  try {
    // Reserve before HDF5 writes anything, so a full disk is reported here, cleanly.
    space_ = std::make_unique<DiskReservation>(options_.path);
    spaceMargin_ = spaceMargin();
    if (!space_->reserve(spaceMargin_)) {
      const std::string why = space_->error();
      closeStopped();
      std::error_code ec;
      fs::remove(options_.path, ec);
      throw KvsError("not enough disk space to record to " + options_.path + ": " + why);
    }
    h5::writeAttribute(*file_, schema::kFormatAttr, std::string(schema::kFormatName));
    h5::writeAttribute(*file_, schema::kVersionAttr, int64_t{schema::kFormatVersion});
    h5::writeAttribute(*file_, schema::kCompleteAttr, int64_t{0});
    h5::writeAttribute(*file_, "app_version", std::string(kVersion));
    h5::writeAttribute(*file_, "created_utc", utcNow());

    H5::Group m = file_->createGroup(schema::kMetaGroup);
    h5::writeAttribute(m, "model_config", toJson(meta.config).dump());
    h5::writeAttribute(m, "checkpoint_path", meta.checkpointPath);
    h5::writeAttribute(m, "checkpoint_sha256", meta.checkpointSha256);
    h5::writeAttribute(m, "tokenizer_path", meta.tokenizerPath);
    h5::writeAttribute(m, "prompt", meta.prompt);
    h5::writeAttribute(m, "prompt_tokens", int64_t(meta.promptIds.size()));
    h5::writeAttribute(m, "seed", int64_t(meta.seed));
    h5::writeAttribute(m, "command", meta.command);
    h5::writeAttribute(m, "settings", meta.settings.empty() ? "{}" : meta.settings);
    h5::writeAttribute(m, "recording", toJson(options_).dump());
    h5::writeAttribute(m, "state_dtype", std::string(toString(options_.storage)));

    const h5::Storage plain;
    tokenIds_ = std::make_unique<H5::DataSet>(
        h5::createGrowing(m, schema::kTokenIds, H5::PredType::STD_I32LE, {0}, 0, {1024}, plain));
    h5::writeDims(*tokenIds_, {"token"});
    h5::append(*tokenIds_, 0, {meta.promptIds.size()}, H5::PredType::NATIVE_INT,
               meta.promptIds.data());
    tokenPieces_ = std::make_unique<H5::DataSet>(
        h5::createGrowing(m, schema::kTokenPieces, utf8Type(), {0}, 0, {1024}, plain));
    h5::writeDims(*tokenPieces_, {"token"});
    std::vector<const char*> pieces;
    for (const auto& p : meta.promptPieces) pieces.push_back(p.c_str());
    require(pieces.size() == meta.promptIds.size(), "recording: one piece per prompt token");
    h5::append(*tokenPieces_, 0, {pieces.size()}, utf8Type(), pieces.data());

    createLayerDatasets();
    file_->createGroup(schema::kVariantsGroup);
    file_->flush(H5F_SCOPE_GLOBAL);
  } catch (const H5::Exception& e) {
    abandonFile();
    throw KvsError("cannot write recording " + options_.path + ": " + e.getDetailMsg());
  }
  lastFlush_ = std::chrono::steady_clock::now();
}

Hdf5Recorder::~Hdf5Recorder() {
  // Without finish() (cancelled or failed run): keep what was staged, leave complete = 0. A forward
  // pass cancelled between layers staged only its first layers' states: it is dropped, so that no
  // position of the later layers holds zeros that read as recorded states.
  if (!forwardDone_) staged_ = stageOffset_;
  guarded("closing", [&] { writeStaged(); });
  try {
    layers_.clear();
    tokenIds_.reset();
    tokenPieces_.reset();
    if (file_) {
      H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, stderr);
      file_->close();
    }
    file_.reset();
  } catch (...) {
  }
}

// Disk kept reserved beyond every write: two chunks of every state dataset, plus 1 MiB for the
// metadata that a flush or close writes.
int64_t Hdf5Recorder::spaceMargin() const {
  const int bytes = options_.storage == StateStorage::kFloat16 ? 2 : 4;
  const int64_t tokenBytes = int64_t(config_.nKvHeads) * config_.headDim() * bytes;
  const int sets = 1 + options_.keysPrerope + options_.values;
  return int64_t(config_.nLayers) * sets * int64_t(tokensPerChunk(tokenBytes)) * tokenBytes * 2 +
         (1 << 20);
}

void Hdf5Recorder::createLayerDatasets() {
  const int Hkv = config_.nKvHeads, D = config_.headDim();
  const bool half = options_.storage == StateStorage::kFloat16;
  const H5::DataType& type =
      half ? static_cast<const H5::DataType&>(h5::float16Type()) : H5::PredType::IEEE_F32LE;
  const hsize_t chunkTokens = tokensPerChunk(int64_t(Hkv) * D * (half ? 2 : 4));
  const h5::Storage storage{options_.deflateLevel};
  const std::vector<hsize_t> empty{hsize_t(Hkv), 0, hsize_t(D)};
  const std::vector<hsize_t> chunk{hsize_t(Hkv), chunkTokens, hsize_t(D)};
  const std::vector<std::string> dims{"kv_head", "token", "head_dim"};
  stageCapacity_ = static_cast<int>(std::min<hsize_t>(chunkTokens, 256));

  H5::Group all = file_->createGroup(schema::kLayersGroup);
  layers_.resize(config_.nLayers);
  for (int l = 0; l < config_.nLayers; ++l) {
    H5::Group g = all.createGroup(layerName(l));
    auto make = [&](const char* name) {
      H5::DataSet d = h5::createGrowing(g, name, type, empty, kTokenAxis, chunk, storage);
      h5::writeDims(d, dims);
      return d;
    };
    layers_[l].keys.dataset = make(schema::kKeys);
    if (options_.keysPrerope) layers_[l].keysPrerope.dataset = make(schema::kKeysPrerope);
    if (options_.values) layers_[l].values.dataset = make(schema::kValues);
    for (StateSet* set : {&layers_[l].keys, &layers_[l].keysPrerope, &layers_[l].values}) {
      if (set->dataset)
        set->stage = at::empty({Hkv, stageCapacity_, D}, half ? at::kHalf : at::kFloat);
    }
  }
}

template <typename F>
void Hdf5Recorder::guarded(const char* what, F&& body) {
  if (!ok() || !file_) return;  // stopped by an error, or finished
  const std::string stopped =
      std::string("recording to ") + options_.path + " stopped while " + what + ": ";
  const std::string holds =
      "; the file holds " + std::to_string(recordedTokens_) + " tokens and is marked incomplete";
  try {
    body();
  } catch (const DiskFull& e) {
    error_ = stopped + "disk full: " + e.what() + holds;
    closeStopped();
  } catch (const H5::Exception& e) {
    error_ = stopped + e.getDetailMsg() + " (file not writable?)" + holds;
    abandonFile();
  } catch (const std::exception& e) {
    error_ = stopped + e.what();
    abandonFile();
  }
}

// Called after a write error HDF5 raised itself (not a full disk: that is caught by the
// reservation first). HDF5 1.10 cannot close such a file cleanly; closing is still tried once.
void Hdf5Recorder::abandonFile() {
  try {
    layers_.clear();
    tokenIds_.reset();
    tokenPieces_.reset();
    file_.reset();
  } catch (...) {
  }
  space_.reset();
}

// Closes the file after the recording was stopped before a write (disk full): everything written
// so far is flushed and the file stays marked incomplete.
void Hdf5Recorder::closeStopped() {
  try {
    closeFile();
  } catch (const H5::Exception&) {
    abandonFile();
  }
}

void Hdf5Recorder::ensureSpace(int64_t bytes) {
  if (space_ && !space_->reserve(bytes + spaceMargin_)) throw DiskFull(space_->error());
}

void Hdf5Recorder::beginForward(int firstPos, int n) {
  guarded("starting a forward pass", [&] {
    require(firstPos == positions_, "recording: positions out of order");
    positions_ += n;
    forwardDone_ = false;
    // Decode steps are staged and written in blocks; a prefill (or anything that does not fit
    // the staging buffers) is written straight from the forward pass.
    if (staged_ + n > stageCapacity_) writeStaged();
    direct_ = n > stageCapacity_;
    stageOffset_ = staged_;
    if (!direct_) staged_ += n;
  });
}

void Hdf5Recorder::onTensor(int layer, const std::string& name, const at::Tensor& tensor) {
  if (!ok()) return;
  guarded("writing states", [&] {
    if (name == "v" && layer == config_.nLayers - 1) forwardDone_ = true;  // the last tap's layer
    StateSet* set = nullptr;
    if (name == "k") {
      set = &layers_[layer].keys;
    } else if (name == "k_prerope") {
      set = &layers_[layer].keysPrerope;
    } else if (name == "v") {
      set = &layers_[layer].values;
    } else if (name == "attn" && options_.attention && !promptDone_) {
      writeAttention(layer, tensor);
    }
    if (!set || !set->dataset) return;
    if (!direct_) {  // [Hkv, n, D] into the staging buffer [Hkv, capacity, D]
      set->stage.narrow(1, stageOffset_, tensor.size(1)).copy_(tensor);
      return;
    }
    const at::Tensor data = storageCopy(tensor, options_.storage);  // [Hkv, n, D]
    ensureSpace(data.numel() * data.element_size());
    h5::append(*set->dataset, kTokenAxis,
               {hsize_t(data.size(0)), hsize_t(data.size(1)), hsize_t(data.size(2))}, memType(),
               data.data_ptr());
  });
}

const H5::DataType& Hdf5Recorder::memType() const {
  if (options_.storage == StateStorage::kFloat16) return h5::float16Type();
  return H5::PredType::NATIVE_FLOAT;
}

// States first, then the ids: a write cut short by a kill shows as fewer tokens, never as a token
// without its states (readers take the shortest dataset).
void Hdf5Recorder::writeStaged() {
  if (staged_ > 0) {
    const int sets = 1 + options_.keysPrerope + options_.values;
    ensureSpace(int64_t(config_.nLayers) * sets * config_.kvDim() * staged_ *
                (options_.storage == StateStorage::kFloat16 ? 2 : 4));
    const std::vector<hsize_t> block{hsize_t(config_.nKvHeads), hsize_t(staged_),
                                     hsize_t(config_.headDim())};
    for (LayerSets& layer : layers_) {
      for (StateSet* set : {&layer.keys, &layer.keysPrerope, &layer.values}) {
        if (!set->dataset) continue;
        const at::Tensor data = set->stage.narrow(1, 0, staged_).contiguous();
        h5::append(*set->dataset, kTokenAxis, block, memType(), data.data_ptr());
      }
    }
    staged_ = 0;
  }
  if (!stagedIds_.empty()) {
    std::vector<const char*> pieces;
    for (const auto& p : stagedPieces_) pieces.push_back(p.c_str());
    h5::append(*tokenPieces_, 0, {pieces.size()}, utf8Type(), pieces.data());
    h5::append(*tokenIds_, 0, {stagedIds_.size()}, H5::PredType::NATIVE_INT, stagedIds_.data());
    stagedIds_.clear();
    stagedPieces_.clear();
  }
}

void Hdf5Recorder::writeAttention(int layer, const at::Tensor& tensor) {
  // The prompt's attention [Hq, P, P]; decode rows are not recorded.
  H5::Group m = file_->openGroup(schema::kMetaGroup);
  if (tensor.size(1) > options_.attentionMaxTokens) {
    if (!m.attrExists("attention_skipped")) {
      h5::writeAttribute(m, "attention_skipped",
                         "the prompt is longer than attention_max_tokens = " +
                             std::to_string(options_.attentionMaxTokens));
    }
    return;
  }
  const at::Tensor a = storageCopy(tensor, StateStorage::kFloat32);
  ensureSpace(a.numel() * 4);
  H5::Group g = file_->openGroup(std::string(schema::kLayersGroup) + "/" + layerName(layer));
  H5::DataSet d = h5::writeDataset(g, schema::kAttention, H5::PredType::IEEE_F32LE,
                                   {hsize_t(a.size(0)), hsize_t(a.size(1)), hsize_t(a.size(2))},
                                   H5::PredType::NATIVE_FLOAT, a.data_ptr(),
                                   h5::Storage{options_.deflateLevel});
  h5::writeDims(d, {"q_head", "query", "key"});
}

void Hdf5Recorder::appendToken(int id, const std::string& piece) {
  guarded("appending a token", [&] {
    promptDone_ = true;
    stagedIds_.push_back(id);
    stagedPieces_.push_back(piece);
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - lastFlush_).count() >= options_.flushIntervalSeconds) {
      writeStaged();
      file_->flush(H5F_SCOPE_GLOBAL);
      lastFlush_ = now;
      recordedTokens_ = positions_;
    }
  });
}

void Hdf5Recorder::addVariant(const RecordedVariant& variant) {
  guarded("writing a variant", [&] {
    const int64_t slots = variant.slotMap ? slotCount(*variant.slotMap) : 0;
    ensureSpace(slots * 32 + int64_t(variant.generatedIds.size()) * 4 + 65536);
    H5::Group all = file_->openGroup(schema::kVariantsGroup);
    H5::Group g = all.createGroup(variant.name);
    h5::writeAttribute(g, "method", std::string(toString(variant.params.method)));
    h5::writeAttribute(g, "params", toJson(variant.params).dump());
    h5::writeAttribute(g, "figures", variant.figures.empty() ? "{}" : variant.figures);
    H5::DataSet ids = h5::writeDataset(g, schema::kGeneratedIds, H5::PredType::STD_I32LE,
                                       {variant.generatedIds.size()}, H5::PredType::NATIVE_INT,
                                       variant.generatedIds.data());
    h5::writeDims(ids, {"token"});
    if (variant.slotMap) {
      H5::Group table = g.createGroup(schema::kSlotsGroup);
      writeSlotTable(table, *variant.slotMap, h5::Storage{options_.deflateLevel});
    }
    writeStaged();
    file_->flush(H5F_SCOPE_GLOBAL);
    recordedTokens_ = positions_;
  });
}

void Hdf5Recorder::finish() {
  guarded("finishing", [&] {
    writeStaged();
    recordedTokens_ = positions_;
    h5::overwriteAttribute(*file_, schema::kCompleteAttr, 1);
    closeFile();
  });
}

void Hdf5Recorder::closeFile() {
  layers_.clear();
  tokenIds_.reset();
  tokenPieces_.reset();
  file_->close();
  file_.reset();
  space_.reset();
}

}  // namespace kvs
