#pragma once
// CPU tensor storage in its own anonymous mapping, for the KV cache's large layer blocks (and the
// model's large weights, below):
// - transparent huge pages cut page faults 512-fold (page faults are a third of prefill and most
//   of compressing a 7B-shaped cache on these VMs);
// - fresh anonymous pages are already zero, so no memset pass;
// - a block can give its tail back to the system (munmap) after it was compacted in place, which
//   frees memory without allocating a smaller block and copying into it.

#include <ATen/core/Tensor.h>

namespace kvs {

// A zeroed contiguous tensor of `sizes` backed by a private mapping (CPU only).
at::Tensor allocateMapped(at::IntArrayRef sizes, at::TensorOptions options);

// Whether t's storage is such a mapping.
bool isMapped(const at::Tensor& t);

// t: a mapped tensor whose storage nobody else holds. Returns a contiguous tensor of `sizes`
// over the first bytes of the same storage, and unmaps the pages past them; t must not be used
// afterwards.
at::Tensor shrinkMapped(at::Tensor t, at::IntArrayRef sizes);

// Model weights: a contiguous copy of t in dtype (the parts concatenated along axis 0, for the
// second form), in a mapping when it is large enough for huge pages to matter (>= 2 MiB), else
// an ordinary tensor. Decode streams every weight once per token: on 4 KiB pages a 110M model's
// 438 MB are 107,000 TLB misses a token.
at::Tensor copyForWeights(const at::Tensor& t, at::ScalarType dtype);
at::Tensor concatForWeights(at::TensorList parts, at::ScalarType dtype);

}  // namespace kvs
