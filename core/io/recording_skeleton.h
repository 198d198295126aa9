#pragma once
// The start of a recording: the HDF5 file with everything but the states (root attributes with
// complete = 0, /meta, the prompt's tokens, one empty growing dataset per recorded state and
// layer, /variants), created under a temporary name, flushed, and only then moved to the
// recording's path (recording_file.h). Hdf5Recorder appends to it. Layout: hdf5_schema.md.

#include <H5Cpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/recording_options.h"

namespace kvs {

class DiskReservation;

struct RecordingSkeleton {
  struct Layer {
    std::optional<H5::DataSet> keys, keysPrerope, values;  // each [Hkv, 0, D], grows along T
  };
  std::unique_ptr<H5::H5File> file;
  std::unique_ptr<DiskReservation> space;              // reserves ahead of the file's growth
  int64_t spaceMargin = 0;                             // kept reserved beyond every write
  std::unique_ptr<H5::DataSet> tokenIds, tokenPieces;  // [P], grow along the token axis
  std::vector<Layer> layers;
  int chunkTokens = 0;  // tokens per chunk of the state datasets

  RecordingSkeleton();
  RecordingSkeleton(RecordingSkeleton&&) noexcept;
  RecordingSkeleton& operator=(RecordingSkeleton&&) noexcept;
  ~RecordingSkeleton();
};

// Checks options.path (checkRecordingPath, with the model and tokenizer of `meta` as the inputs
// never written over), then creates the file as above. When this returns, options.path is a valid
// recording marked incomplete; when it throws (KvsError naming the problem and the fix), the path
// is untouched and no temporary is left.
RecordingSkeleton createRecordingSkeleton(const RecordingOptions& options,
                                          const RecordingMeta& meta);

// "layer_07": the group of one layer under /layers.
std::string layerGroupName(int layer);

// Variable-length UTF-8 strings (token pieces).
const H5::StrType& utf8StringType();

}  // namespace kvs
