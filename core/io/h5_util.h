#pragma once
// Small helpers over the HDF5 C++ API for the recording schema: typed scalar/string attributes,
// the `dims` attribute, datasets that grow along one axis, and reading a whole dataset as float.
// HDF5 errors arrive as H5::Exception; callers translate them into KvsError with context.

#include <H5Cpp.h>

#include <string>
#include <vector>

namespace kvs::h5 {

// Turns off HDF5's automatic printing of its error stack (errors become exceptions only).
void silenceErrorStack();

// IEEE binary16, little-endian: h5py and MATLAB read it as float16 / half.
const H5::FloatType& float16Type();

void writeAttribute(H5::H5Object& object, const std::string& name, const std::string& value);
void writeAttribute(H5::H5Object& object, const std::string& name, int64_t value);
void writeAttribute(H5::H5Object& object, const std::string& name, double value);
void writeAttribute(H5::H5Object& object, const std::string& name,
                    const std::vector<std::string>& values);
// Replaces the attribute when it exists (same type and shape expected).
void overwriteAttribute(H5::H5Object& object, const std::string& name, int64_t value);

bool hasAttribute(const H5::H5Object& object, const std::string& name);
std::string readStringAttribute(const H5::H5Object& object, const std::string& name);
int64_t readIntAttribute(const H5::H5Object& object, const std::string& name);
double readDoubleAttribute(const H5::H5Object& object, const std::string& name);
std::vector<std::string> readStringsAttribute(const H5::H5Object& object, const std::string& name);

// Names the axes of a dataset, e.g. {"kv_head", "token", "head_dim"}.
void writeDims(H5::DataSet& dataset, const std::vector<std::string>& axes);

struct Storage {
  int deflateLevel = 0;  // 0 = no filter; 1-9 = shuffle + deflate at that level
};

// A chunked dataset whose axis `growAxis` starts at `shape[growAxis]` and is unlimited.
H5::DataSet createGrowing(H5::Group& group, const std::string& name, const H5::DataType& type,
                          const std::vector<hsize_t>& shape, int growAxis,
                          const std::vector<hsize_t>& chunk, const Storage& storage);

// Extends `dataset` along growAxis by block[growAxis] and writes `data` (block-shaped, row-major,
// of memType) into the new part.
void append(H5::DataSet& dataset, int growAxis, const std::vector<hsize_t>& block,
            const H5::DataType& memType, const void* data);

// Writes a fixed-size dataset in one call (no chunking unless the storage asks for a filter).
H5::DataSet writeDataset(H5::Group& group, const std::string& name, const H5::DataType& fileType,
                         const std::vector<hsize_t>& shape, const H5::DataType& memType,
                         const void* data, const Storage& storage = {});

std::vector<hsize_t> shapeOf(const H5::DataSet& dataset);

// Reads a hyperslab [offset, offset + count) as float32 (HDF5 converts from float16 or int).
std::vector<float> readFloats(const H5::DataSet& dataset, const std::vector<hsize_t>& offset,
                              const std::vector<hsize_t>& count);
std::vector<int> readInts(const H5::DataSet& dataset);
std::vector<std::string> readStrings(const H5::DataSet& dataset);

// What a file that may be hostile or cut really holds. These read metadata only, so that every
// size can be checked against the file before anything is allocated for the data.

// The size in bytes of the file that holds `location`, as the file system reports it: a file cut
// short is smaller than the offsets its metadata names.
hsize_t fileSizeOf(const H5::H5Location& location);

// Leading positions along `axis` whose data the file really holds: the extent, cut at the first
// chunk that was never written or lies (partly) beyond fileSize. Contiguous storage counts in full
// when all of it lies inside the file, else not at all; compact storage always counts. Reading
// past the result returns fill values (zeros), not recorded data. Looks up at most maxLookups
// chunks (each is a B-tree search) and counts only those.
hsize_t heldExtent(const H5::DataSet& dataset, int axis, hsize_t fileSize,
                   hsize_t maxLookups = hsize_t(1) << 22);

// The `dims` attribute (axis names); empty when the dataset has none.
std::vector<std::string> readDims(const H5::DataSet& dataset);

// The first `count` elements of a 1-D dataset (count <= its extent).
std::vector<int> readInts(const H5::DataSet& dataset, hsize_t count);
std::vector<std::string> readStrings(const H5::DataSet& dataset, hsize_t count);

}  // namespace kvs::h5
