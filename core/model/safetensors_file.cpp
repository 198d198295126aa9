#include "model/safetensors_file.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"

namespace kvs {

struct SafetensorsFile::Mapping {
  void* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data) munmap(data, size);
  }
};

namespace {

// Far above any real header (Llama-2-70B's is ~70 KB); rejects garbage before allocating.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

std::string shapeText(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << at::IntArrayRef(shape);
  return s.str();
}

}  // namespace

at::ScalarType parseSafetensorsDtype(const std::string& name, const std::string& context) {
  if (name == "F32") return at::kFloat;
  if (name == "F16") return at::kHalf;
  if (name == "BF16") return at::kBFloat16;
  throw KvsError(context + " has dtype " + name +
                 ", which is not supported (F32, F16 and BF16 are; quantized checkpoints are "
                 "not: use an unquantized Hugging Face export)");
}

const char* safetensorsDtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return "F32";
    case at::kHalf:
      return "F16";
    case at::kBFloat16:
      return "BF16";
    default:
      throw KvsError(std::string("safetensors: no name for dtype ") + c10::toString(type));
  }
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  require(fd >= 0, "cannot open safetensors file " + path + ": " + std::strerror(errno));
  struct stat st {};
  const bool statOk = fstat(fd, &st) == 0;
  const int64_t size = statOk ? st.st_size : 0;
  auto mapping = std::make_shared<Mapping>();
  if (size > 0) {
    void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data != MAP_FAILED) {
      mapping->data = data;
      mapping->size = size;
    }
  }
  ::close(fd);
  const std::string bad = "corrupt safetensors file " + path;
  require(statOk && size >= 8, bad + ": " + std::to_string(size) +
                                   " bytes, shorter than the 8-byte header length (truncated?)");
  require(mapping->data, "cannot map " + path + " into memory: " + std::strerror(errno));
  f.mapping_ = mapping;
  const auto* bytes = static_cast<const unsigned char*>(mapping->data);

  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | bytes[i];  // little-endian
  require(headerLen <= kMaxHeaderBytes && static_cast<int64_t>(headerLen) <= size - 8,
          bad + ": its header length field says " + std::to_string(headerLen) +
              " bytes but the file has " + std::to_string(size) +
              " (truncated, or not a safetensors file)");
  f.dataOffset_ = 8 + static_cast<int64_t>(headerLen);
  const int64_t dataSize = size - f.dataOffset_;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + headerLen);
  } catch (const nlohmann::json::exception& e) {
    throw KvsError(bad + ": its JSON header does not parse (" + e.what() +
                   "); download or export it again");
  }
  require(header.is_object(), bad + ": its JSON header is not an object");

  std::vector<std::pair<int64_t, std::string>> byBegin;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string what = "tensor '" + name + "' in " + path;
    SafetensorsEntry e;
    try {
      e.dtype = parseSafetensorsDtype(value.at("dtype").get<std::string>(), what);
      e.shape = value.at("shape").get<std::vector<int64_t>>();
      const auto offsets = value.at("data_offsets").get<std::vector<int64_t>>();
      require(offsets.size() == 2, what + ": data_offsets must hold two numbers");
      e.begin = offsets[0];
      e.end = offsets[1];
    } catch (const nlohmann::json::exception& err) {
      throw KvsError(bad + ": the header entry of " + what + " is malformed (" + err.what() + ")");
    }
    int64_t numel = 1;
    for (int64_t d : e.shape) {
      require(d >= 0 && d < (int64_t{1} << 40),
              what + " has an invalid shape " + shapeText(e.shape));
      numel *= d;
    }
    require(e.begin >= 0 && e.begin <= e.end, bad + ": " + what + " has invalid data_offsets");
    require(e.end <= dataSize, "truncated safetensors file: " + what + " ends at data byte " +
                                   std::to_string(e.end) + " but the file holds only " +
                                   std::to_string(dataSize) +
                                   " bytes of data; download or export it again");
    const int64_t need = numel * static_cast<int64_t>(c10::elementSize(e.dtype));
    require(e.end - e.begin == need,
            bad + ": " + what + " is " + shapeText(e.shape) + " " + safetensorsDtypeName(e.dtype) +
                ", " + std::to_string(need) + " bytes, but its data_offsets span " +
                std::to_string(e.end - e.begin));
    if (e.end > e.begin) byBegin.emplace_back(e.begin, name);  // empty tensors overlap nothing
    f.entries_.emplace(name, std::move(e));
  }
  std::sort(byBegin.begin(), byBegin.end());
  for (size_t i = 1; i < byBegin.size(); ++i) {
    const SafetensorsEntry& prev = f.entries_.at(byBegin[i - 1].second);
    require(prev.end <= byBegin[i].first, bad + ": tensors '" + byBegin[i - 1].second + "' and '" +
                                              byBegin[i].second + "' overlap");
  }
  return f;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  const auto it = entries_.find(name);
  require(it != entries_.end(), "tensor '" + name + "' is not in " + path_);
  return it->second;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  auto* data = static_cast<char*>(mapping_->data) + dataOffset_ + e.begin;
  // The deleter holds the mapping, so the view stays valid after this object is gone.
  auto keep = mapping_;
  return at::from_blob(
      data, e.shape, [keep](void*) mutable { keep.reset(); }, at::TensorOptions(e.dtype));
}

void SafetensorsFile::release(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const int64_t page = sysconf(_SC_PAGESIZE);
  const auto base = reinterpret_cast<uintptr_t>(mapping_->data);
  // Whole pages inside the tensor only; a private read-only file mapping re-reads them if needed.
  const uintptr_t first = (base + dataOffset_ + e.begin + page - 1) / page * page;
  const uintptr_t last = (base + dataOffset_ + e.end) / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace kvs
