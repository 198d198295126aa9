#include "io/h5_util.h"

#include <algorithm>
#include <filesystem>
#include <mutex>

namespace kvs::h5 {
namespace {

H5::StrType utf8String() {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  return type;
}

H5::DataSpace simpleSpace(const std::vector<hsize_t>& shape,
                          const std::vector<hsize_t>* maxShape = nullptr) {
  return H5::DataSpace(static_cast<int>(shape.size()), shape.data(),
                       maxShape ? maxShape->data() : nullptr);
}

}  // namespace

void silenceErrorStack() {
  static std::once_flag once;
  std::call_once(once, [] { H5::Exception::dontPrint(); });
}

const H5::FloatType& float16Type() {
  // binary16: sign bit 15, exponent bits 10-14 (bias 15), mantissa bits 0-9.
  static const H5::FloatType type = [] {
    H5::FloatType t(H5::PredType::IEEE_F32LE);
    t.setFields(15, 10, 5, 0, 10);
    t.setOffset(0);
    t.setPrecision(16);
    t.setSize(2);
    t.setEbias(15);
    return t;
  }();
  return type;
}

void writeAttribute(H5::H5Object& object, const std::string& name, const std::string& value) {
  const H5::StrType type = utf8String();
  H5::Attribute attribute = object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  attribute.write(type, value);
}

void writeAttribute(H5::H5Object& object, const std::string& name, int64_t value) {
  H5::Attribute attribute =
      object.createAttribute(name, H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR));
  attribute.write(H5::PredType::NATIVE_INT64, &value);
}

void writeAttribute(H5::H5Object& object, const std::string& name, double value) {
  H5::Attribute attribute =
      object.createAttribute(name, H5::PredType::IEEE_F64LE, H5::DataSpace(H5S_SCALAR));
  attribute.write(H5::PredType::NATIVE_DOUBLE, &value);
}

void writeAttribute(H5::H5Object& object, const std::string& name,
                    const std::vector<std::string>& values) {
  const H5::StrType type = utf8String();
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  H5::Attribute attribute = object.createAttribute(name, type, simpleSpace({values.size()}));
  attribute.write(type, pointers.data());
}

void overwriteAttribute(H5::H5Object& object, const std::string& name, int64_t value) {
  if (!object.attrExists(name)) return writeAttribute(object, name, value);
  object.openAttribute(name).write(H5::PredType::NATIVE_INT64, &value);
}

bool hasAttribute(const H5::H5Object& object, const std::string& name) {
  return object.attrExists(name);
}

std::string readStringAttribute(const H5::H5Object& object, const std::string& name) {
  const H5::Attribute attribute = object.openAttribute(name);
  std::string value;
  attribute.read(attribute.getStrType(), value);
  return value;
}

int64_t readIntAttribute(const H5::H5Object& object, const std::string& name) {
  int64_t value = 0;
  object.openAttribute(name).read(H5::PredType::NATIVE_INT64, &value);
  return value;
}

double readDoubleAttribute(const H5::H5Object& object, const std::string& name) {
  double value = 0;
  object.openAttribute(name).read(H5::PredType::NATIVE_DOUBLE, &value);
  return value;
}

std::vector<std::string> readStringsAttribute(const H5::H5Object& object, const std::string& name) {
  const H5::Attribute attribute = object.openAttribute(name);
  const hssize_t n = attribute.getSpace().getSimpleExtentNpoints();
  std::vector<char*> pointers(static_cast<size_t>(n), nullptr);
  const H5::StrType type = utf8String();
  attribute.read(type, pointers.data());
  std::vector<std::string> values;
  for (char* p : pointers) values.emplace_back(p ? p : "");
  H5::DataSet::vlenReclaim(pointers.data(), type, attribute.getSpace());
  return values;
}

void writeDims(H5::DataSet& dataset, const std::vector<std::string>& axes) {
  writeAttribute(dataset, "dims", axes);
}

H5::DataSet createGrowing(H5::Group& group, const std::string& name, const H5::DataType& type,
                          const std::vector<hsize_t>& shape, int growAxis,
                          const std::vector<hsize_t>& chunk, const Storage& storage) {
  std::vector<hsize_t> maxShape = shape;
  maxShape[growAxis] = H5S_UNLIMITED;
  H5::DSetCreatPropList properties;
  properties.setChunk(static_cast<int>(chunk.size()), chunk.data());
  if (storage.deflateLevel > 0) {
    properties.setShuffle();
    properties.setDeflate(storage.deflateLevel);
  }
  return group.createDataSet(name, type, simpleSpace(shape, &maxShape), properties);
}

void append(H5::DataSet& dataset, int growAxis, const std::vector<hsize_t>& block,
            const H5::DataType& memType, const void* data) {
  std::vector<hsize_t> size = shapeOf(dataset);
  std::vector<hsize_t> offset(size.size(), 0);
  offset[growAxis] = size[growAxis];
  size[growAxis] += block[growAxis];
  dataset.extend(size.data());
  H5::DataSpace fileSpace = dataset.getSpace();
  fileSpace.selectHyperslab(H5S_SELECT_SET, block.data(), offset.data());
  dataset.write(data, memType, simpleSpace(block), fileSpace);
}

H5::DataSet writeDataset(H5::Group& group, const std::string& name, const H5::DataType& fileType,
                         const std::vector<hsize_t>& shape, const H5::DataType& memType,
                         const void* data, const Storage& storage) {
  H5::DSetCreatPropList properties;
  hsize_t elements = 1;
  for (hsize_t s : shape) elements *= s;
  if (storage.deflateLevel > 0 && elements > 0) {
    properties.setChunk(static_cast<int>(shape.size()), shape.data());
    properties.setShuffle();
    properties.setDeflate(storage.deflateLevel);
  }
  H5::DataSet dataset = group.createDataSet(name, fileType, simpleSpace(shape), properties);
  if (elements > 0) dataset.write(data, memType);
  return dataset;
}

std::vector<hsize_t> shapeOf(const H5::DataSet& dataset) {
  const H5::DataSpace space = dataset.getSpace();
  std::vector<hsize_t> shape(static_cast<size_t>(space.getSimpleExtentNdims()));
  space.getSimpleExtentDims(shape.data());
  return shape;
}

std::vector<float> readFloats(const H5::DataSet& dataset, const std::vector<hsize_t>& offset,
                              const std::vector<hsize_t>& count) {
  hsize_t elements = 1;
  for (hsize_t c : count) elements *= c;
  std::vector<float> values(elements);
  if (elements == 0) return values;
  H5::DataSpace fileSpace = dataset.getSpace();
  fileSpace.selectHyperslab(H5S_SELECT_SET, count.data(), offset.data());
  dataset.read(values.data(), H5::PredType::NATIVE_FLOAT, simpleSpace(count), fileSpace);
  return values;
}

std::vector<int> readInts(const H5::DataSet& dataset) {
  std::vector<int> values(static_cast<size_t>(dataset.getSpace().getSimpleExtentNpoints()));
  if (!values.empty()) dataset.read(values.data(), H5::PredType::NATIVE_INT);
  return values;
}

std::vector<std::string> readStrings(const H5::DataSet& dataset) {
  const H5::DataSpace space = dataset.getSpace();
  std::vector<char*> pointers(static_cast<size_t>(space.getSimpleExtentNpoints()), nullptr);
  if (pointers.empty()) return {};
  const H5::StrType type = utf8String();
  dataset.read(pointers.data(), type);
  std::vector<std::string> values;
  for (char* p : pointers) values.emplace_back(p ? p : "");
  H5::DataSet::vlenReclaim(pointers.data(), type, space);
  return values;
}

hsize_t fileSizeOf(const H5::H5Location& location) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(location.getFileName(), ec);
  return ec ? 0 : hsize_t(size);
}

namespace {

// Chunked storage: the first position along `axis` from which some chunk is missing or cut.
hsize_t heldChunkedExtent(const H5::DataSet& dataset, const H5::DSetCreatPropList& plist, int axis,
                          const std::vector<hsize_t>& extent, hsize_t fileSize,
                          hsize_t maxLookups) {
  const int rank = static_cast<int>(extent.size());
  std::vector<hsize_t> chunk(extent.size(), 0);
  if (plist.getChunk(rank, chunk.data()) != rank) return 0;
  std::vector<hsize_t> grid(extent.size());  // chunks per axis
  for (int a = 0; a < rank; ++a) {
    if (chunk[a] == 0) return 0;
    grid[a] = (extent[a] + chunk[a] - 1) / chunk[a];
  }
  // Slab by slab along `axis` (chunks are written in token order), each slab's chunks in
  // row-major order; the first missing or cut chunk ends what is held.
  hsize_t lookups = 0;
  for (hsize_t k = 0; k < grid[axis]; ++k) {
    std::vector<hsize_t> index(extent.size(), 0);
    index[axis] = k;
    for (bool more = true; more;) {
      if (++lookups > maxLookups) return k * chunk[axis];
      std::vector<hsize_t> offset(extent.size());
      for (int a = 0; a < rank; ++a) offset[a] = index[a] * chunk[a];
      unsigned filterMask = 0;
      haddr_t address = HADDR_UNDEF;
      hsize_t bytes = 0;
      const herr_t found =
          H5Dget_chunk_info_by_coord(dataset.getId(), offset.data(), &filterMask, &address, &bytes);
      if (found < 0 || address == HADDR_UNDEF || bytes == 0 || address > fileSize ||
          bytes > fileSize - address) {
        return std::min(extent[axis], k * chunk[axis]);
      }
      more = false;  // next chunk of the slab: odometer over every axis but `axis`
      for (int a = rank - 1; a >= 0 && !more; --a) {
        if (a == axis) continue;
        if (++index[a] < grid[a]) {
          more = true;
        } else {
          index[a] = 0;
        }
      }
    }
  }
  return extent[axis];
}

}  // namespace

hsize_t heldExtent(const H5::DataSet& dataset, int axis, hsize_t fileSize, hsize_t maxLookups) {
  const std::vector<hsize_t> extent = shapeOf(dataset);
  if (axis < 0 || axis >= static_cast<int>(extent.size())) return 0;
  hsize_t elements = 1;  // saturates: a hostile extent can multiply past 2^64
  for (hsize_t e : extent) {
    elements = e != 0 && elements > ~hsize_t(0) / e ? ~hsize_t(0) : elements * e;
  }
  if (elements == 0) return extent[axis];
  const H5::DSetCreatPropList plist = dataset.getCreatePlist();
  switch (plist.getLayout()) {
    case H5D_COMPACT:
      return extent[axis];
    case H5D_CONTIGUOUS: {
      const haddr_t address = H5Dget_offset(dataset.getId());
      const hsize_t typeSize = dataset.getDataType().getSize();
      if (address == HADDR_UNDEF || typeSize == 0 || elements > fileSize / typeSize) return 0;
      const hsize_t bytes = elements * typeSize;
      return address <= fileSize && bytes <= fileSize - address ? extent[axis] : 0;
    }
    case H5D_CHUNKED:
      return heldChunkedExtent(dataset, plist, axis, extent, fileSize, maxLookups);
    default:  // virtual or external: the data is not in this file
      return 0;
  }
}

std::vector<std::string> readDims(const H5::DataSet& dataset) {
  if (!dataset.attrExists("dims")) return {};
  return readStringsAttribute(dataset, "dims");
}

std::vector<int> readInts(const H5::DataSet& dataset, hsize_t count) {
  std::vector<int> values(static_cast<size_t>(count));
  if (count == 0) return values;
  H5::DataSpace fileSpace = dataset.getSpace();
  const hsize_t offset = 0;
  fileSpace.selectHyperslab(H5S_SELECT_SET, &count, &offset);
  dataset.read(values.data(), H5::PredType::NATIVE_INT, simpleSpace({count}), fileSpace);
  return values;
}

std::vector<std::string> readStrings(const H5::DataSet& dataset, hsize_t count) {
  if (count == 0) return {};
  std::vector<char*> pointers(static_cast<size_t>(count), nullptr);
  H5::DataSpace fileSpace = dataset.getSpace();
  const hsize_t offset = 0;
  fileSpace.selectHyperslab(H5S_SELECT_SET, &count, &offset);
  const H5::DataSpace memSpace = simpleSpace({count});
  const H5::StrType type = utf8String();
  dataset.read(pointers.data(), type, memSpace, fileSpace);
  std::vector<std::string> values;
  for (char* p : pointers) values.emplace_back(p ? p : "");
  H5::DataSet::vlenReclaim(pointers.data(), type, memSpace);
  return values;
}

}  // namespace kvs::h5
