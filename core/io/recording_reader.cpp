#include "io/recording_reader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "io/h5_util.h"
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
  require(std::filesystem::is_regular_file(path, ec),
          "recording " + path + " does not exist or is not a file");
  const htri_t isHdf5 = H5Fis_hdf5(path.c_str());
  require(isHdf5 > 0, path +
                          " is not an HDF5 file; recordings come from kvstudio-cli generate "
                          "--record FILE.h5 or the app's Record");
  try {
    file_ = std::make_unique<H5::H5File>(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot open " + path + " as HDF5 (truncated or corrupt?): " + e.getDetailMsg());
  }
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
    info_.promptTokens = int(h5::readIntAttribute(m, "prompt_tokens"));
    info_.seed = h5::readIntAttribute(m, "seed");
    info_.command = h5::readStringAttribute(m, "command");
    info_.settingsJson = h5::readStringAttribute(m, "settings");
    info_.stateDtype = h5::readStringAttribute(m, "state_dtype");
    info_.tokenIds = h5::readInts(m.openDataSet(schema::kTokenIds));
    info_.tokenPieces = h5::readStrings(m.openDataSet(schema::kTokenPieces));
    // A kill between the two appends can leave one more piece than ids.
    info_.tokenPieces.resize(std::min(info_.tokenPieces.size(), info_.tokenIds.size()));

    require(f.nameExists(schema::kLayersGroup), path + " has no /layers group (damaged recording)");
    const H5::Group layers = f.openGroup(schema::kLayersGroup);
    const int groups = int(layers.getNumObjs());
    int tokens = int(info_.tokenIds.size());
    for (int l = 0; l < groups; ++l) {
      require(layers.nameExists(layerName(l)),
              path + " is missing /layers/" + layerName(l) + " (damaged recording)");
      const H5::Group g = layers.openGroup(layerName(l));
      require(g.nameExists(schema::kKeys),
              path + " has no keys in /layers/" + layerName(l) + " (damaged recording)");
      for (StateSource s : {StateSource::kKeys, StateSource::kKeysPrerope, StateSource::kValues}) {
        if (!g.nameExists(datasetName(s))) continue;
        const auto shape = h5::shapeOf(g.openDataSet(datasetName(s)));
        require(shape.size() == 3, path + ": /layers/" + layerName(l) + "/" + datasetName(s) +
                                       " is not [kv_head, token, head_dim]");
        if (l == 0 && s == StateSource::kKeys) {
          info_.kvHeads = int(shape[0]);
          info_.headDim = int(shape[2]);
        }
        require(int(shape[0]) == info_.kvHeads && int(shape[2]) == info_.headDim,
                path + ": /layers/" + layerName(l) + "/" + datasetName(s) +
                    " has a shape unlike layer 0's");
        if (l == 0) info_.sources.push_back(s);
        tokens = std::min(tokens, int(shape[1]));
      }
      if (l == 0) info_.hasAttention = g.nameExists(schema::kAttention);
    }
    require(groups > 0, path + " holds no layers (damaged recording)");
    info_.layers = groups;
    info_.tokens = tokens;

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

at::Tensor RecordingReader::states(StateSource source, int layer) const {
  const std::string where = datasetPath(source, layer);
  const hsize_t H = info_.kvHeads, T = info_.tokens, D = info_.headDim;
  try {
    std::vector<float> data = h5::readFloats(file_->openDataSet(where), {0, 0, 0}, {H, T, D});
    return at::from_blob(data.data(), {int64_t(H), int64_t(T), int64_t(D)}, at::kFloat).clone();
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read " + where + " from " + path_ +
                   " (truncated file?): " + e.getDetailMsg());
  }
}

at::Tensor RecordingReader::states(StateSource source, int layer, int head) const {
  const std::string where = datasetPath(source, layer);
  require(head >= 0 && head < info_.kvHeads, "KV head " + std::to_string(head) + " is not in " +
                                                 path_ + ", which has KV heads 0-" +
                                                 std::to_string(info_.kvHeads - 1));
  const hsize_t T = info_.tokens, D = info_.headDim;
  try {
    std::vector<float> data =
        h5::readFloats(file_->openDataSet(where), {hsize_t(head), 0, 0}, {1, T, D});
    return at::from_blob(data.data(), {int64_t(T), int64_t(D)}, at::kFloat).clone();
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read " + where + " from " + path_ +
                   " (truncated file?): " + e.getDetailMsg());
  }
}

at::Tensor RecordingReader::attention(int layer) const {
  checkLayer(layer);
  require(info_.hasAttention, "attention was not recorded in " + path_ +
                                  "; record again with --record-attention (prompts up to its "
                                  "token limit)");
  const std::string where =
      std::string(schema::kLayersGroup) + "/" + layerName(layer) + "/" + schema::kAttention;
  try {
    const H5::DataSet d = file_->openDataSet(where);
    const auto shape = h5::shapeOf(d);
    std::vector<float> data = h5::readFloats(d, {0, 0, 0}, shape);
    return at::from_blob(data.data(), {int64_t(shape[0]), int64_t(shape[1]), int64_t(shape[2])},
                         at::kFloat)
        .clone();
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read " + where + " from " + path_ + ": " + e.getDetailMsg());
  }
}

VariantRecord RecordingReader::variant(const std::string& name) const {
  require(std::find(info_.variantNames.begin(), info_.variantNames.end(), name) !=
              info_.variantNames.end(),
          "no variant '" + name + "' in " + path_);
  VariantRecord r;
  r.name = name;
  try {
    const H5::Group g = file_->openGroup(std::string(schema::kVariantsGroup) + "/" + name);
    r.method = h5::readStringAttribute(g, "method");
    r.paramsJson = h5::readStringAttribute(g, "params");
    r.figuresJson = h5::readStringAttribute(g, "figures");
    r.generatedIds = h5::readInts(g.openDataSet(schema::kGeneratedIds));
    if (!g.nameExists(schema::kSlotsGroup)) return r;
    r.slotMap = readSlotTable(g.openGroup(schema::kSlotsGroup), info_.layers, info_.kvHeads,
                              "variant '" + name + "' in " + path_);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot read variant '" + name + "' from " + path_ + ": " + e.getDetailMsg());
  }
  return r;
}

}  // namespace kvs
