#include "cache/mapped_storage.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/core/Storage.h>

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace kvs {
namespace {

// The DataPtr's context: the mapping's extent, which shrinks when its tail is unmapped.
struct Mapping {
  void* base;
  size_t bytes;
};

void releaseMapping(void* context) {
  auto* m = static_cast<Mapping*>(context);
  munmap(m->base, m->bytes);
  delete m;
}

size_t roundUp(size_t bytes, size_t unit) {
  return (bytes + unit - 1) / unit * unit;
}

size_t pageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

int64_t bytesOf(at::IntArrayRef sizes, const caffe2::TypeMeta& dtype) {
  int64_t n = static_cast<int64_t>(dtype.itemsize());
  for (int64_t s : sizes) n *= s;
  return n;
}

at::Tensor tensorOver(const c10::Storage& storage, at::IntArrayRef sizes,
                      at::TensorOptions options) {
  const c10::InferenceMode normal(false);  // see KvCache::allocate
  return at::empty({0}, options).set_(storage, 0, sizes);
}

}  // namespace

at::Tensor allocateMapped(at::IntArrayRef sizes, at::TensorOptions options) {
  TORCH_CHECK(options.device().is_cpu(), "allocateMapped is for CPU tensors");
  const int64_t bytes = bytesOf(sizes, options.dtype());
  constexpr size_t kHugePage = 2 << 20;
  const size_t rounded = roundUp(std::max<int64_t>(bytes, 1), kHugePage);
  void* data = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) throw std::bad_alloc();
  // Honoured when THP is "madvise" or "always"; elsewhere these stay ordinary pages.
  madvise(data, rounded, MADV_HUGEPAGE);
  c10::DataPtr ptr(data, new Mapping{data, rounded}, &releaseMapping, options.device());
  const c10::Storage storage(c10::Storage::use_byte_size_t(), static_cast<size_t>(bytes),
                             std::move(ptr));
  return tensorOver(storage, sizes, options);
}

bool isMapped(const at::Tensor& t) {
  return t.defined() && t.has_storage() && t.storage().data_ptr().get_deleter() == &releaseMapping;
}

at::Tensor shrinkMapped(at::Tensor t, at::IntArrayRef sizes) {
  TORCH_CHECK(isMapped(t), "shrinkMapped needs a mapped tensor");
  const c10::Storage storage = t.storage();
  const at::TensorOptions options = t.options();
  t.reset();  // the storage is held by `storage` alone from here
  auto* m = storage.data_ptr().cast_context<Mapping>(&releaseMapping);
  const int64_t bytes = bytesOf(sizes, options.dtype());
  TORCH_CHECK(static_cast<size_t>(bytes) <= storage.nbytes(), "shrinkMapped cannot grow");
  const size_t kept = roundUp(std::max<int64_t>(bytes, 1), pageSize());
  if (kept < m->bytes) {
    munmap(static_cast<char*>(m->base) + kept, m->bytes - kept);
    m->bytes = kept;
  }
  storage.unsafeGetStorageImpl()->set_nbytes(static_cast<size_t>(bytes));
  return tensorOver(storage, sizes, options);
}

namespace {

constexpr int64_t kMappedWeightBytes = int64_t{2} << 20;

at::Tensor weightTarget(at::IntArrayRef sizes, at::ScalarType dtype, at::Device device) {
  const at::TensorOptions options = at::TensorOptions().dtype(dtype).device(device);
  if (device.is_cpu() && bytesOf(sizes, options.dtype()) >= kMappedWeightBytes) {
    return allocateMapped(sizes, options);
  }
  return at::empty(sizes, options);
}

}  // namespace

at::Tensor copyForWeights(const at::Tensor& t, at::ScalarType dtype) {
  at::Tensor out = weightTarget(t.sizes(), dtype, t.device());
  out.copy_(t);
  return out;
}

at::Tensor concatForWeights(at::TensorList parts, at::ScalarType dtype) {
  TORCH_CHECK(!parts.empty(), "concatForWeights needs a part");
  std::vector<int64_t> sizes = parts[0].sizes().vec();
  sizes[0] = 0;
  for (const at::Tensor& p : parts) {
    TORCH_CHECK(p.dim() == parts[0].dim() && p.sizes().slice(1) == parts[0].sizes().slice(1),
                "concatForWeights: parts differ past axis 0: ", parts[0].sizes(), " and ",
                p.sizes());
    sizes[0] += p.size(0);
  }
  at::Tensor out = weightTarget(sizes, dtype, parts[0].device());
  int64_t row = 0;
  for (const at::Tensor& p : parts) {
    out.narrow(0, row, p.size(0)).copy_(p);
    row += p.size(0);
  }
  return out;
}

}  // namespace kvs
