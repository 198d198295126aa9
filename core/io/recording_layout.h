#pragma once
// Checks of a recording's datasets (core/io/hdf5_schema.md) against its /meta model_config and
// against what the file really holds, made by RecordingReader before anything is allocated for
// their data. A file whose sizes contradict each other (a bit flip, a hostile edit) gets a
// KvsError naming the dataset and what is wrong; a file cut short (full disk, killed process) is
// measured instead, so that the reader uses what it holds and says what it lacks.

#include <H5Cpp.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kvs {

// The sizes every dataset must agree with, from /meta model_config.
struct RecordedModelShape {
  int layers = 0;      // L
  int queryHeads = 0;  // Hq
  int kvHeads = 0;     // Hkv
  int headDim = 0;     // D
};

// KvsError naming `path` when the JSON cannot be read or a size is not one a model has (0,
// negative, absurdly large, Hq not a multiple of Hkv).
RecordedModelShape parseRecordedModelShape(const std::string& modelConfigJson,
                                           const std::string& path);

// A state dataset [Hkv, T, D] named `where`: KvsError unless it has three axes, `dims`
// (kv_head, token, head_dim) when it has the attribute, and the model's Hkv and D. Returns the
// token positions whose data the file holds (<= T).
int checkStateDataset(const H5::DataSet& dataset, const RecordedModelShape& shape,
                      const std::string& where, hsize_t fileSize);

// An attention dataset [Hq, P, P]: KvsError unless it has the model's Hq and the prompt's P
// tokens on both token axes. Returns whether the file holds all of its data.
bool checkAttentionDataset(const H5::DataSet& dataset, const RecordedModelShape& shape,
                           int promptTokens, const std::string& where, hsize_t fileSize);

// A 1-D [token] dataset (token ids, pieces): KvsError unless it has one axis (and `dims` token).
// Returns the elements whose data the file holds.
hsize_t checkTokenDataset(const H5::DataSet& dataset, const std::string& where, hsize_t fileSize);

// Sorted numbers as "3", "3-5" or "1, 3-5", for messages naming layers or positions.
std::string describeRanges(const std::vector<int>& sorted);

// Index of the first NaN or infinity in data[0, n), or -1 when every value is finite.
int64_t firstNonFinite(const float* data, size_t n);

}  // namespace kvs
