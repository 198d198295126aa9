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
  // Maps the file and validates the whole header (JSON, dtypes, offsets within the file, sizes
  // that match the shapes, no overlaps); KvsError naming the file and the tensor otherwise.
  static SafetensorsFile open(const std::string& path);

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
  std::map<std::string, SafetensorsEntry> entries_;
};

// "F32", "F16", "BF16" <-> the ATen type; KvsError for anything else.
at::ScalarType parseSafetensorsDtype(const std::string& name, const std::string& context);
const char* safetensorsDtypeName(at::ScalarType type);

}  // namespace kvs
