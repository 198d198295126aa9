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
#include <tuple>

#include "io/output_path.h"
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

// A whole number that fits int64 (nlohmann would silently truncate 4.5 or wrap 2^64 - 1).
int64_t wholeNumber(const nlohmann::json& v, const std::string& what) {
  require(v.is_number_integer() &&
              (!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t(INT64_MAX)),
          what + " must be a whole number, got " + v.dump());
  return v.get<int64_t>();
}

// The JSON header: it begins with '{', and the length field ends it right after its closing '}'
// or after spaces (the only padding the format allows, used to align the data). Anything else
// means the length field is wrong, and the data section would start at the wrong byte.
nlohmann::json parseHeader(const unsigned char* text, uint64_t length, const std::string& bad) {
  uint64_t end = length;
  while (end > 0 && text[end - 1] == ' ') --end;
  require(length > 0 && text[0] == '{',
          bad +
              ": its JSON header does not begin with '{' (not a safetensors file, or a wrong "
              "header length field); download or export it again");
  require(end > 0 && text[end - 1] == '}',
          bad + ": its header length field says " + std::to_string(length) +
              " bytes, but the JSON header does not end there (only spaces may follow its "
              "closing '}'): the length field or the header is corrupt; download or export it "
              "again");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + end);
  } catch (const nlohmann::json::exception& e) {
    throw KvsError(bad + ": its JSON header does not parse (" + e.what() +
                   "); download or export it again");
  }
  require(header.is_object(), bad + ": its JSON header is not an object");
  return header;
}

// One header entry {"dtype", "shape", "data_offsets"}, its byte count checked against its shape.
SafetensorsEntry parseEntry(const nlohmann::json& value, const std::string& what,
                            const std::string& bad) {
  SafetensorsEntry e;
  std::string dtypeName;
  std::vector<int64_t> offsets;
  try {
    require(value.is_object(), "it is not a JSON object");
    dtypeName = value.at("dtype").get<std::string>();
    const auto& shape = value.at("shape");
    require(shape.is_array(), "\"shape\" must be an array, got " + shape.dump());
    for (const auto& d : shape) e.shape.push_back(wholeNumber(d, "each dimension of its shape"));
    const auto& span = value.at("data_offsets");
    require(span.is_array() && span.size() == 2,
            "\"data_offsets\" must hold two numbers, got " + span.dump());
    for (const auto& o : span) offsets.push_back(wholeNumber(o, "each of its data_offsets"));
  } catch (const nlohmann::json::exception& err) {
    throw KvsError(bad + ": the header entry of " + what + " is malformed (" + err.what() + ")");
  } catch (const KvsError& err) {
    throw KvsError(bad + ": the header entry of " + what + " is malformed: " + err.what());
  }
  e.dtype = parseSafetensorsDtype(dtypeName, what);
  e.begin = offsets[0];
  e.end = offsets[1];
  // [elements] * element size, without overflow: each factor is bounded before multiplying.
  int64_t need = static_cast<int64_t>(c10::elementSize(e.dtype));
  for (int64_t d : e.shape) {
    require(d >= 0 && d < (int64_t{1} << 40) && !__builtin_mul_overflow(need, d, &need),
            bad + ": " + what + " has an invalid shape " + shapeText(e.shape));
  }
  require(e.begin >= 0 && e.begin <= e.end, bad + ": " + what + " has invalid data_offsets [" +
                                                std::to_string(e.begin) + ", " +
                                                std::to_string(e.end) + "]");
  require(e.end - e.begin == need, bad + ": " + what + " is " + shapeText(e.shape) + " " +
                                       safetensorsDtypeName(e.dtype) + ", " + std::to_string(need) +
                                       " bytes, but its data_offsets span " +
                                       std::to_string(e.end - e.begin));
  return e;
}

// The tensors must tile the data section exactly, as the format requires: in offset order the
// first begins at byte 0, each begins where the previous ends, and the last ends at the end of
// the file. A gap, an overlap or a remainder means shifted offsets or a wrong header length,
// which would otherwise load every tensor from the wrong bytes.
void checkTiling(const std::map<std::string, SafetensorsEntry>& entries, int64_t dataSize,
                 const std::string& path, const std::string& bad) {
  std::vector<std::tuple<int64_t, int64_t, std::string>> order;  // (begin, end, name)
  for (const auto& [name, e] : entries) order.emplace_back(e.begin, e.end, name);
  std::sort(order.begin(), order.end());
  int64_t filled = 0;  // data bytes covered so far
  std::string previous;
  for (const auto& [begin, end, name] : order) {
    if (begin != filled) {
      const std::string where =
          "tensor '" + name + "' begins at data byte " + std::to_string(begin);
      require(!previous.empty(), bad + ": " + where +
                                     ", but the first tensor must begin at byte 0 (shifted "
                                     "data_offsets?); download or export it again");
      require(begin < filled, bad + ": " + where + " but tensor '" + previous +
                                  "' before it ends at " + std::to_string(filled) + ", leaving " +
                                  std::to_string(begin - filled) +
                                  " bytes that belong to no tensor (shifted data_offsets?); "
                                  "download or export it again");
      throw KvsError(bad + ": tensors '" + previous + "' and '" + name + "' overlap: '" + name +
                     "' begins at data byte " + std::to_string(begin) + ", before '" + previous +
                     "' ends at " + std::to_string(filled) + "; download or export it again");
    }
    filled = end;
    previous = name;
  }
  require(filled <= dataSize, "truncated safetensors file: tensor '" + previous + "' in " + path +
                                  " ends at data byte " + std::to_string(filled) +
                                  " but the file holds only " + std::to_string(dataSize) +
                                  " bytes of data; download or export it again");
  require(filled == dataSize,
          bad + ": its tensors fill data bytes 0.." + std::to_string(filled) + " but the file " +
              "holds " + std::to_string(dataSize) +
              " bytes of data after its header: " + std::to_string(dataSize - filled) +
              " bytes belong to no tensor (a wrong header length field or data offsets, or bytes "
              "appended); download or export it again");
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

SafetensorsFile SafetensorsFile::open(const std::string& path, bool checkLayoutNow) {
  // A FIFO or device would block open() or mmap(); refuse it by its type first.
  requireRegularFile(path, "safetensors file");
  SafetensorsFile f;
  f.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  require(fd >= 0, "cannot open safetensors file " + path + ": " + std::strerror(errno));
  struct stat st {};
  const bool statOk = fstat(fd, &st) == 0;
  const int64_t size = statOk ? st.st_size : 0;
  auto mapping = std::make_shared<Mapping>();
  if (statOk && S_ISREG(st.st_mode) && size > 0) {
    void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data != MAP_FAILED) {
      mapping->data = data;
      mapping->size = size;
    }
  }
  ::close(fd);
  // Replaced by something else between the check above and open(): refused the same way.
  require(!statOk || S_ISREG(st.st_mode),
          "the safetensors file " + path + " is not a regular file; name a file");
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
  f.dataSize_ = size - f.dataOffset_;
  const nlohmann::json header = parseHeader(bytes + 8, headerLen, bad);

  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      require(value.is_object(), bad + ": its \"__metadata__\" is not a JSON object");
      continue;
    }
    f.entries_.emplace(name, parseEntry(value, "tensor '" + name + "' in " + path, bad));
  }
  if (checkLayoutNow) f.checkLayout();
  return f;
}

void SafetensorsFile::checkLayout() const {
  checkTiling(entries_, dataSize_, path_, "corrupt safetensors file " + path_);
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
