#pragma once
// Which BLAS LibTorch's matmuls run on. Debian's LibTorch links libblas.so.3, which resolves to the
// slow reference BLAS unless OpenBLAS is installed (38x slower matmuls measured), so the app says
// so.

#include <string>

namespace kvs {

struct BlasInfo {
  std::string name;   // "OpenBLAS", "reference BLAS (netlib)", "MKL", or "unknown"
  std::string path;   // the shared library the process loaded, if any
  bool slow = false;  // true for the reference BLAS
};

BlasInfo detectBlas();

// "OpenBLAS (/usr/lib/.../libblas.so.3)" and, when slow, a hint how to fix it.
std::string describeBlas(const BlasInfo& info);

}  // namespace kvs
