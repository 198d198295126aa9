#include "io/recording_skeleton.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "io/disk_reservation.h"
#include "io/h5_util.h"
#include "io/recording_file.h"
#include "io/recording_schema.h"
#include "kvs/version.h"
#include "util/error.h"

namespace kvs {
namespace {

constexpr int kTokenAxis = 1;  // states are [Hkv, T, D]

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

void writeRootAttributes(H5::H5File& file) {
  h5::writeAttribute(file, schema::kFormatAttr, std::string(schema::kFormatName));
  h5::writeAttribute(file, schema::kVersionAttr, int64_t{schema::kFormatVersion});
  h5::writeAttribute(file, schema::kCompleteAttr, int64_t{0});
  h5::writeAttribute(file, "app_version", std::string(kVersion));
  h5::writeAttribute(file, "created_utc", utcNow());
}

// /meta: who made the recording and from what, and the prompt's ids and pieces [P].
void writeMeta(RecordingSkeleton& s, const RecordingOptions& options, const RecordingMeta& meta) {
  require(meta.promptPieces.size() == meta.promptIds.size(),
          "recording: one piece per prompt token");
  H5::Group m = s.file->createGroup(schema::kMetaGroup);
  h5::writeAttribute(m, "model_config", toJson(meta.config).dump());
  h5::writeAttribute(m, "checkpoint_path", meta.checkpointPath);
  h5::writeAttribute(m, "checkpoint_sha256", meta.checkpointSha256);
  h5::writeAttribute(m, "tokenizer_path", meta.tokenizerPath);
  h5::writeAttribute(m, "prompt", meta.prompt);
  h5::writeAttribute(m, "prompt_tokens", int64_t(meta.promptIds.size()));
  h5::writeAttribute(m, "seed", int64_t(meta.seed));
  h5::writeAttribute(m, "command", meta.command);
  h5::writeAttribute(m, "settings", meta.settings.empty() ? "{}" : meta.settings);
  h5::writeAttribute(m, "recording", toJson(options).dump());
  h5::writeAttribute(m, "state_dtype", std::string(toString(options.storage)));

  const h5::Storage plain;
  s.tokenIds = std::make_unique<H5::DataSet>(
      h5::createGrowing(m, schema::kTokenIds, H5::PredType::STD_I32LE, {0}, 0, {1024}, plain));
  h5::writeDims(*s.tokenIds, {"token"});
  h5::append(*s.tokenIds, 0, {meta.promptIds.size()}, H5::PredType::NATIVE_INT,
             meta.promptIds.data());
  s.tokenPieces = std::make_unique<H5::DataSet>(
      h5::createGrowing(m, schema::kTokenPieces, utf8StringType(), {0}, 0, {1024}, plain));
  h5::writeDims(*s.tokenPieces, {"token"});
  std::vector<const char*> pieces;
  for (const auto& p : meta.promptPieces) pieces.push_back(p.c_str());
  h5::append(*s.tokenPieces, 0, {pieces.size()}, utf8StringType(), pieces.data());
}

// /layers/layer_NN/{keys, keys_prerope, values}: empty [Hkv, 0, D], chunked along the tokens.
void createLayerDatasets(RecordingSkeleton& s, const RecordingOptions& options,
                         const ModelConfig& config) {
  const int Hkv = config.nKvHeads, D = config.headDim();
  const bool half = options.storage == StateStorage::kFloat16;
  const H5::DataType& type =
      half ? static_cast<const H5::DataType&>(h5::float16Type()) : H5::PredType::IEEE_F32LE;
  s.chunkTokens = tokensPerChunk(int64_t(Hkv) * D * (half ? 2 : 4));
  const h5::Storage storage{options.deflateLevel};
  const std::vector<hsize_t> empty{hsize_t(Hkv), 0, hsize_t(D)};
  const std::vector<hsize_t> chunk{hsize_t(Hkv), hsize_t(s.chunkTokens), hsize_t(D)};
  const std::vector<std::string> dims{"kv_head", "token", "head_dim"};

  H5::Group all = s.file->createGroup(schema::kLayersGroup);
  s.layers.resize(config.nLayers);
  for (int l = 0; l < config.nLayers; ++l) {
    H5::Group g = all.createGroup(layerGroupName(l));
    auto make = [&](const char* name) {
      H5::DataSet d = h5::createGrowing(g, name, type, empty, kTokenAxis, chunk, storage);
      h5::writeDims(d, dims);
      return d;
    };
    s.layers[l].keys = make(schema::kKeys);
    if (options.keysPrerope) s.layers[l].keysPrerope = make(schema::kKeysPrerope);
    if (options.values) s.layers[l].values = make(schema::kValues);
  }
}

}  // namespace

RecordingSkeleton::RecordingSkeleton() = default;
RecordingSkeleton::RecordingSkeleton(RecordingSkeleton&&) noexcept = default;
RecordingSkeleton& RecordingSkeleton::operator=(RecordingSkeleton&&) noexcept = default;
RecordingSkeleton::~RecordingSkeleton() = default;

std::string layerGroupName(int layer) {
  char name[32];
  std::snprintf(name, sizeof name, "layer_%02d", layer);
  return name;
}

const H5::StrType& utf8StringType() {
  static const H5::StrType type = [] {
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    return t;
  }();
  return type;
}

RecordingSkeleton createRecordingSkeleton(const RecordingOptions& options,
                                          const RecordingMeta& meta) {
  h5::silenceErrorStack();
  checkRecordingPath(options, meta.config,
                     recordingInputs(meta.checkpointPath, meta.tokenizerPath));
  // Declared before the skeleton, so that on an error the file is closed before it is removed.
  PendingFile pending(options.path);
  RecordingSkeleton s;
  try {
    s.file = std::make_unique<H5::H5File>(pending.path(), H5F_ACC_TRUNC);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot create the HDF5 file " + options.path + ": " + e.getDetailMsg() +
                   "; choose another path");
  }
  // Reserved before HDF5 writes anything more, so that a full disk is reported here, cleanly.
  s.space = std::make_unique<DiskReservation>(pending.path(), options.path);
  s.spaceMargin = recordingSpaceMargin(options, meta.config);
  require(s.space->reserve(s.spaceMargin), "not enough disk space to record to " + options.path +
                                               ": " + s.space->error() +
                                               "; free some space or record to another disk");
  try {
    writeRootAttributes(*s.file);
    writeMeta(s, options, meta);
    createLayerDatasets(s, options, meta.config);
    s.file->createGroup(schema::kVariantsGroup);
    // On disk in full (a flush also sets the file's length to what its superblock says): from
    // the rename on, a kill leaves a file that opens.
    s.file->flush(H5F_SCOPE_GLOBAL);
  } catch (const H5::Exception& e) {
    throw KvsError("cannot write the recording " + options.path + ": " + e.getDetailMsg() +
                   "; choose another path");
  }
  pending.publish(options.overwrite);
  return s;
}

}  // namespace kvs
