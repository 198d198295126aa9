#include "io/recording_reader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "io/h5_util.h"
#include "io/output_path.h"
#include "io/recording_layout.h"
#include "io/recording_schema.h"
#include "io/slot_table.h"
#include "util/error.h"

namespace kvs {
namespace {

std::string layerName(int layer) {
  char name[32];
  std::snprintf(name, sizeof name, "layer_%02d", layer);
  return name;
}

const char* datasetName(StateSource source) {
  switch (source) {
    case StateSource::kKeys:
      return schema::kKeys;
    case StateSource::kKeysPrerope:
      return schema::kKeysPrerope;
    case StateSource::kValues:
      return schema::kValues;
  }
  return "?";
}

const char* recordFlag(StateSource source) {
  switch (source) {
    case StateSource::kKeys:
      return "--record";
    case StateSource::kKeysPrerope:
      return "--record-keys-prerope";
    case StateSource::kValues:
      return "--record-values";
  }
  return "?";
}

// "layer 4" or "layers 1, 4-5".
std::string layersPhrase(const std::vector<int>& layers) {
  return (layers.size() == 1 ? "layer " : "layers ") + describeRanges(layers);
}

}  // namespace

const char* toString(StateSource source) {
  switch (source) {
    case StateSource::kKeys:
      return "keys";
    case StateSource::kKeysPrerope:
      return "keys-prerope";
    case StateSource::kValues:
      return "values";
  }
  return "?";
}

StateSource parseStateSource(const std::string& text) {
  if (text == "keys") return StateSource::kKeys;
  if (text == "keys-prerope" || text == "keys_prerope") return StateSource::kKeysPrerope;
  if (text == "values") return StateSource::kValues;
  throw KvsError("unknown source '" + text + "'; use keys, keys-prerope or values");
}

RecordingReader::RecordingReader(const std::string& path) : path_(path) {
  h5::silenceErrorStack();
  std::error_code ec;
  require(std::filesystem::exists(path, ec),
          "recording " + path + " does not exist; check the path");
  requireRegularFile(path, "recording");  // a FIFO or device would block or never end
  const htri_t isHdf5 = H5Fis_hdf5(path.c_str());
  require(isHdf5 > 0, path +
                          " is not an HDF5 file; recordings come from kvstudio-cli generate "
                          "--record FILE.h5 or the app's Record");
  try {
    file_ = std::make_unique<H5::H5File>(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot open " + path + " as HDF5 (truncated or corrupt?): " + e.getDetailMsg());
  }
  fileSize_ = h5::fileSizeOf(*file_);
  try {
    H5::H5File& f = *file_;
    require(h5::hasAttribute(f, schema::kFormatAttr) &&
                h5::readStringAttribute(f, schema::kFormatAttr) == schema::kFormatName,
            path + " is an HDF5 file but not a KV Studio recording (its root has no format = \"" +
                schema::kFormatName + "\" attribute)");
    info_.formatVersion = int(h5::readIntAttribute(f, schema::kVersionAttr));
    require(info_.formatVersion <= schema::kFormatVersion,
            path + " has recording format " + std::to_string(info_.formatVersion) +
                ", newer than this KV Studio reads (" + std::to_string(schema::kFormatVersion) +
                "); update KV Studio");
    info_.complete = h5::readIntAttribute(f, schema::kCompleteAttr) == 1;
    info_.appVersion = h5::readStringAttribute(f, "app_version");
    info_.createdUtc = h5::readStringAttribute(f, "created_utc");

    require(f.nameExists(schema::kMetaGroup), path + " has no /meta group (damaged recording)");
    const H5::Group m = f.openGroup(schema::kMetaGroup);
    info_.modelConfigJson = h5::readStringAttribute(m, "model_config");
    info_.checkpointPath = h5::readStringAttribute(m, "checkpoint_path");
    info_.checkpointSha256 = h5::readStringAttribute(m, "checkpoint_sha256");
    info_.tokenizerPath = h5::readStringAttribute(m, "tokenizer_path");
    info_.prompt = h5::readStringAttribute(m, "prompt");
    const int64_t promptTokens = h5::readIntAttribute(m, "prompt_tokens");
    require(promptTokens >= 0 && promptTokens <= INT_MAX,
            path + ": /meta prompt_tokens = " + std::to_string(promptTokens) +
                " is not a token count (damaged recording)");
    info_.promptTokens = int(promptTokens);
    info_.seed = h5::readIntAttribute(m, "seed");
    info_.command = h5::readStringAttribute(m, "command");
    info_.settingsJson = h5::readStringAttribute(m, "settings");
    info_.stateDtype = h5::readStringAttribute(m, "state_dtype");
    const hsize_t idsDeclared = readTokens(m);
    readLayers(f);
    // Ids the file declares or whose states it holds, but not the ids themselves (cut short).
    const hsize_t idsWanted = std::max<hsize_t>(idsDeclared, hsize_t(info_.tokens));
    if (info_.tokenIds.size() < idsWanted) {
      info_.missing.push_back("the token ids of positions " +
                              std::to_string(info_.tokenIds.size()) + "-" +
                              std::to_string(idsWanted - 1));
    }

    if (f.nameExists(schema::kVariantsGroup)) {
      const H5::Group v = f.openGroup(schema::kVariantsGroup);
      for (hsize_t i = 0; i < v.getNumObjs(); ++i)
        info_.variantNames.push_back(v.getObjnameByIdx(i));
    }
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read " + path +
                   " (damaged or truncated recording?): " + e.getDetailMsg());
  }
}

// Ids and pieces, as many as the file holds of each (never more than the declared extent, which a
// damaged file can make huge). Returns the number of ids declared.
hsize_t RecordingReader::readTokens(const H5::Group& meta) {
  const H5::DataSet ids = meta.openDataSet(schema::kTokenIds);
  const H5::DataSet pieces = meta.openDataSet(schema::kTokenPieces);
  const hsize_t idsHeld = checkTokenDataset(ids, path_ + ": /meta/token_ids", fileSize_);
  const hsize_t piecesHeld = checkTokenDataset(pieces, path_ + ": /meta/token_pieces", fileSize_);
  const hsize_t idsDeclared = h5::shapeOf(ids)[0];
  info_.tokenIds = h5::readInts(ids, idsHeld);
  // A kill between the two appends can leave one more piece than ids: only pieces of ids count.
  info_.tokenPieces = h5::readStrings(pieces, std::min(piecesHeld, idsHeld));
  if (info_.tokenPieces.size() < info_.tokenIds.size()) {
    info_.missing.push_back("the token pieces of positions " +
                            std::to_string(info_.tokenPieces.size()) + "-" +
                            std::to_string(info_.tokenIds.size() - 1) + " (shown as ?)");
    info_.tokenPieces.resize(info_.tokenIds.size(), "?");
  }
  return idsDeclared;
}

// Every layer's state and attention datasets, checked against the model_config; T and what the
// file lacks, from what each dataset holds.
void RecordingReader::readLayers(const H5::H5File& f) {
  const RecordedModelShape shape = parseRecordedModelShape(info_.modelConfigJson, path_);
  info_.layers = shape.layers;
  info_.queryHeads = shape.queryHeads;
  info_.kvHeads = shape.kvHeads;
  info_.headDim = shape.headDim;
  require(f.nameExists(schema::kLayersGroup), path_ + " has no /layers group (damaged recording)");
  const H5::Group layers = f.openGroup(schema::kLayersGroup);
  const StateSource all[] = {StateSource::kKeys, StateSource::kKeysPrerope, StateSource::kValues};
  std::map<StateSource, std::vector<int>> lacking;  // source -> layers without it
  std::vector<int> withoutAttention;
  int tokens = INT_MAX, declared = 0;
  bool anyAttention = false;
  for (int l = 0; l < shape.layers; ++l) {
    const std::string name = std::string(schema::kLayersGroup) + "/" + layerName(l);
    require(layers.nameExists(layerName(l)),
            path_ + " is missing /" + name + " (damaged recording)");
    const H5::Group g = layers.openGroup(layerName(l));
    require(g.nameExists(schema::kKeys),
            path_ + " has no keys in /" + name + " (damaged recording)");
    for (StateSource s : all) {
      if (!g.nameExists(datasetName(s))) {
        if (l > 0 && has(s)) lacking[s].push_back(l);
        continue;
      }
      if (l == 0) info_.sources.push_back(s);
      if (!has(s)) continue;  // not in layer 0: not a recorded source
      const H5::DataSet d = g.openDataSet(datasetName(s));
      tokens = std::min(
          tokens,
          checkStateDataset(d, shape, path_ + ": /" + name + "/" + datasetName(s), fileSize_));
      declared = std::max(declared, int(std::min<hsize_t>(h5::shapeOf(d)[1], INT_MAX)));
    }
    const bool attention = g.nameExists(schema::kAttention);
    anyAttention = anyAttention || attention;
    if (!attention ||
        !checkAttentionDataset(g.openDataSet(schema::kAttention), shape, info_.promptTokens,
                               path_ + ": /" + name + "/" + schema::kAttention, fileSize_)) {
      withoutAttention.push_back(l);
    }
  }
  require(layers.getNumObjs() <= hsize_t(shape.layers),
          path_ + " holds " + std::to_string(layers.getNumObjs()) +
              " layer groups, but /meta model_config says " + std::to_string(shape.layers) +
              " layers (damaged recording)");
  for (const auto& [source, missingLayers] : lacking) {
    info_.missing.push_back("the " + std::string(toString(source)) + " of " +
                            layersPhrase(missingLayers));
    info_.sources.erase(std::find(info_.sources.begin(), info_.sources.end(), source));
  }
  info_.hasAttention = anyAttention && withoutAttention.empty();
  if (anyAttention && !info_.hasAttention) {
    info_.missing.push_back("the attention of " + layersPhrase(withoutAttention));
  }
  info_.tokens = tokens;
  if (tokens < declared) {
    info_.missing.push_back("the states of positions " + std::to_string(tokens) + "-" +
                            std::to_string(declared - 1) + " in some layers");
  }
}

RecordingReader::~RecordingReader() = default;
RecordingReader::RecordingReader(RecordingReader&&) noexcept = default;

bool RecordingReader::has(StateSource source) const {
  return std::find(info_.sources.begin(), info_.sources.end(), source) != info_.sources.end();
}

void RecordingReader::checkLayer(int layer) const {
  require(layer >= 0 && layer < info_.layers, "layer " + std::to_string(layer) + " is not in " +
                                                  path_ + ", which has layers 0-" +
                                                  std::to_string(info_.layers - 1));
}

std::string RecordingReader::datasetPath(StateSource source, int layer) const {
  checkLayer(layer);
  require(has(source), std::string(toString(source)) + " were not recorded in " + path_ +
                           "; record again with " + recordFlag(source));
  return std::string(schema::kLayersGroup) + "/" + layerName(layer) + "/" + datasetName(source);
}

std::vector<float> RecordingReader::stateValues(StateSource source, int layer, int head) const {
  const std::string where = datasetPath(source, layer);
  require(head >= -1 && head < info_.kvHeads, "KV head " + std::to_string(head) + " is not in " +
                                                  path_ + ", which has KV heads 0-" +
                                                  std::to_string(info_.kvHeads - 1));
  const hsize_t H = head < 0 ? info_.kvHeads : 1, T = info_.tokens, D = info_.headDim;
  std::vector<float> data;
  try {
    data = h5::readFloats(file_->openDataSet(where), {hsize_t(std::max(head, 0)), 0, 0}, {H, T, D});
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read " + where + " from " + path_ +
                   " (truncated file?): " + e.getDetailMsg());
  }
  const int64_t bad = firstNonFinite(data.data(), data.size());
  if (bad >= 0) {
    const int64_t badHead = (head < 0 ? 0 : head) + bad / int64_t(T * D);
    throw KvsError(
        "the " + std::string(toString(source)) + " of layer " + std::to_string(layer) + " in " +
        path_ + " hold " + (std::isnan(data[bad]) ? "NaN" : "an infinite value") + " (KV head " +
        std::to_string(badHead) + ", position " + std::to_string(bad / int64_t(D) % int64_t(T)) +
        "), so no similarity can be computed: " +
        (info_.stateDtype == "float16"
             ? "the values overflowed float16; record again with --record-dtype float32"
             : "the file is damaged or the model diverged; record it again"));
  }
  return data;
}

at::Tensor RecordingReader::states(StateSource source, int layer) const {
  std::vector<float> data = stateValues(source, layer, -1);
  return at::from_blob(data.data(), {info_.kvHeads, info_.tokens, info_.headDim}, at::kFloat)
      .clone();
}

at::Tensor RecordingReader::states(StateSource source, int layer, int head) const {
  require(head >= 0, "KV head " + std::to_string(head) + " is not in " + path_);
  std::vector<float> data = stateValues(source, layer, head);
  return at::from_blob(data.data(), {info_.tokens, info_.headDim}, at::kFloat).clone();
}

std::vector<float> RecordingReader::attentionValues(int layer) const {
  checkLayer(layer);
  require(info_.hasAttention, "attention was not recorded in " + path_ +
                                  "; record again with --record-attention (prompts up to its "
                                  "token limit)");
  const std::string where =
      std::string(schema::kLayersGroup) + "/" + layerName(layer) + "/" + schema::kAttention;
  const hsize_t Hq = info_.queryHeads, P = info_.promptTokens;
  std::vector<float> data;
  try {
    data = h5::readFloats(file_->openDataSet(where), {0, 0, 0}, {Hq, P, P});
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read " + where + " from " + path_ + ": " + e.getDetailMsg());
  }
  require(firstNonFinite(data.data(), data.size()) < 0,
          "the attention of layer " + std::to_string(layer) + " in " + path_ +
              " holds NaN or infinite values (damaged recording); record it again");
  return data;
}

at::Tensor RecordingReader::attention(int layer) const {
  std::vector<float> data = attentionValues(layer);
  return at::from_blob(data.data(), {info_.queryHeads, info_.promptTokens, info_.promptTokens},
                       at::kFloat)
      .clone();
}

void RecordingReader::readEverything() const {
  for (int l = 0; l < info_.layers; ++l) {
    for (StateSource s : info_.sources) stateValues(s, l, -1);
    if (info_.hasAttention) attentionValues(l);
  }
  for (const std::string& name : info_.variantNames) variant(name);
}

VariantRecord RecordingReader::variant(const std::string& name) const {
  require(std::find(info_.variantNames.begin(), info_.variantNames.end(), name) !=
              info_.variantNames.end(),
          "no variant '" + name + "' in " + path_);
  VariantRecord r;
  r.name = name;
  const std::string where = "variant '" + name + "' in " + path_;
  try {
    const H5::Group g = file_->openGroup(std::string(schema::kVariantsGroup) + "/" + name);
    r.method = h5::readStringAttribute(g, "method");
    r.paramsJson = h5::readStringAttribute(g, "params");
    r.figuresJson = h5::readStringAttribute(g, "figures");
    const H5::DataSet ids = g.openDataSet(schema::kGeneratedIds);
    const hsize_t held = checkTokenDataset(ids, where + ": generated_ids", fileSize_);
    require(held == h5::shapeOf(ids)[0],
            where + ": generated_ids is cut short (damaged or incomplete recording)");
    r.generatedIds = h5::readInts(ids, held);
    if (!g.nameExists(schema::kSlotsGroup)) return r;
    r.slotMap = readSlotTable(g.openGroup(schema::kSlotsGroup), info_.layers, info_.kvHeads, where);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read variant '" + name + "' from " + path_ + ": " + e.getDetailMsg());
  }
  return r;
}

}  // namespace kvs
