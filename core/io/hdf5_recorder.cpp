#include "io/hdf5_recorder.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "cache/slot_map.h"
#include "io/disk_reservation.h"
#include "io/h5_util.h"
#include "io/recording_schema.h"
#include "io/recording_skeleton.h"
#include "io/slot_table.h"
#include "util/error.h"

namespace kvs {

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

// t in the storage dtype, contiguous on the CPU; copies only when it must.
at::Tensor storageCopy(const at::Tensor& t, StateStorage storage) {
  const auto dtype = storage == StateStorage::kFloat16 ? at::kHalf : at::kFloat;
  return t.to(at::kCPU, dtype).contiguous();
}

}  // namespace

Hdf5Recorder::Hdf5Recorder(const RecordingOptions& options, const RecordingMeta& meta)
    : options_(options), config_(meta.config) {
  options_.validate();
  RecordingSkeleton skeleton = createRecordingSkeleton(options_, meta);
  file_ = std::move(skeleton.file);
  space_ = std::move(skeleton.space);
  spaceMargin_ = skeleton.spaceMargin;
  tokenIds_ = std::move(skeleton.tokenIds);
  tokenPieces_ = std::move(skeleton.tokenPieces);
  stageCapacity_ = std::min(skeleton.chunkTokens, 256);
  const auto stageType = options_.storage == StateStorage::kFloat16 ? at::kHalf : at::kFloat;
  layers_.resize(skeleton.layers.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    layers_[l].keys.dataset = std::move(skeleton.layers[l].keys);
    layers_[l].keysPrerope.dataset = std::move(skeleton.layers[l].keysPrerope);
    layers_[l].values.dataset = std::move(skeleton.layers[l].values);
    for (StateSet* set : {&layers_[l].keys, &layers_[l].keysPrerope, &layers_[l].values}) {
      if (set->dataset) {
        set->stage = at::empty({config_.nKvHeads, stageCapacity_, config_.headDim()}, stageType);
      }
    }
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

template <typename F>
void Hdf5Recorder::guarded(const char* what, F&& body) {
  if (!ok() || !file_) return;  // stopped by an error, or finished
  std::string why;
  try {
    body();
    return;
  } catch (const DiskFull& e) {
    why = std::string("disk full: ") + e.what();
    closeStopped();
  } catch (const H5::Exception& e) {
    why = e.getDetailMsg() + " (file not writable?)";
    abandonFile();
  } catch (const std::exception& e) {
    why = e.what();
    abandonFile();
  }
  // Counted after closing: the close wrote what the datasets held, which is what readers see.
  error_ = std::string("recording to ") + options_.path + " stopped while " + what + ": " + why +
           "; the file holds " + std::to_string(recordedTokens_) +
           " tokens and is marked incomplete";
}

// Positions whose states (every recorded layer and kind) and ids are all in the datasets: the T
// a reader takes. Throws H5::Exception.
int Hdf5Recorder::heldTokens() const {
  hsize_t held = tokenIds_ ? h5::shapeOf(*tokenIds_)[0] : 0;
  for (const LayerSets& layer : layers_) {
    for (const StateSet* set : {&layer.keys, &layer.keysPrerope, &layer.values}) {
      if (set->dataset) held = std::min(held, h5::shapeOf(*set->dataset)[kTokenAxis]);
    }
  }
  return static_cast<int>(held);
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
// so far is flushed and the file stays marked incomplete. recordedTokens_ becomes what it holds;
// after a failed close it stays at the last flush.
void Hdf5Recorder::closeStopped() {
  try {
    const int held = heldTokens();
    closeFile();
    recordedTokens_ = held;
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
    h5::append(*tokenPieces_, 0, {pieces.size()}, utf8StringType(), pieces.data());
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
  H5::Group g = file_->openGroup(std::string(schema::kLayersGroup) + "/" + layerGroupName(layer));
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
      recordedTokens_ = heldTokens();
    }
  });
}

void Hdf5Recorder::addVariant(const RecordedVariant& variant) {
  guarded("writing a variant", [&] {
    const int64_t slots = variant.slotMap ? slotCount(*variant.slotMap) : 0;
    ensureSpace(slots * 32 + int64_t(variant.generatedIds.size()) * 4 + 65536);
    H5::Group all = file_->openGroup(schema::kVariantsGroup);
    H5::Group g = all.createGroup(variant.name);
    h5::writeAttribute(g, "method", variant.params.method);
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
    recordedTokens_ = heldTokens();
  });
}

void Hdf5Recorder::finish() {
  guarded("finishing", [&] {
    writeStaged();
    const int held = heldTokens();
    h5::overwriteAttribute(*file_, schema::kCompleteAttr, 1);
    closeFile();
    recordedTokens_ = held;
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
