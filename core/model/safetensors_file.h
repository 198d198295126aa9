#pragma once
// One .safetensors file, memory-mapped read-only: an 8-byte little-endian header length N, a JSON
// header of N bytes ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__"}),
// then the raw tensor bytes. Tensors are views over the mapping (no copy); the mapping lives as
// long as any of them. Only F32, F16 and BF16 are supported.

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kvs {

struct SafetensorsEntry {
  at::ScalarType dtype = at::kFloat;
  std::vector<int64_t> shape;
  int64_t begin = 0, end = 0;  // byte offsets into the data section
};

class SafetensorsFile {
 public:
  // Refuses anything but a regular file before opening it (a FIFO would block), maps it and
  // validates the whole header: the length field ends the JSON (only spaces may pad it), dtypes,
  // sizes that match the shapes, and tensors that tile the data section exactly (the first at
  // byte 0, each where the previous ends, the last at the end of the file: shifted offsets or a
  // wrong length would load every tensor from the wrong bytes). KvsError naming the file, the
  // tensor and the offsets otherwise. checkLayoutNow = false leaves the tiling to a later
  // checkLayout() call: a caller that knows which tensors belong there (HfCheckpoint) first names
  // a missing one, the likelier cause of a gap.
  static SafetensorsFile open(const std::string& path, bool checkLayoutNow = true);
  // The tiling check above; KvsError naming the tensors and offsets of the first gap or overlap.
  void checkLayout() const;

  const std::string& path() const { return path_; }
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  const SafetensorsEntry& entry(const std::string& name) const;

  // A read-only CPU view of the tensor's bytes in the mapping (never write into it).
  at::Tensor tensor(const std::string& name) const;
  // Drops the tensor's pages from this process's memory (they are re-read from the file if the
  // tensor is used again): call after copying a tensor, so the copy does not double the RSS.
  void release(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  int64_t dataOffset_ = 0;
  int64_t dataSize_ = 0;  // bytes after the header
  std::map<std::string, SafetensorsEntry> entries_;
};

// "F32", "F16", "BF16" <-> the ATen type; KvsError for anything else.
at::ScalarType parseSafetensorsDtype(const std::string& name, const std::string& context);
const char* safetensorsDtypeName(at::ScalarType type);

}  // namespace kvs
