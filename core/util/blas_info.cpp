#include "util/blas_info.h"

#include <link.h>

#include <climits>
#include <cstdlib>
#include <string>

namespace kvs {
namespace {

int collectBlas(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<BlasInfo*>(data);
  const std::string path = info->dlpi_name ? info->dlpi_name : "";
  const auto slash = path.find_last_of('/');
  const std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  const bool isBlas = file.rfind("libblas.so", 0) == 0 || file.rfind("libopenblas", 0) == 0 ||
                      file.rfind("libmkl_rt", 0) == 0 || file.rfind("libmkl_core", 0) == 0;
  if (!isBlas || !out->path.empty()) return 0;
  char resolved[PATH_MAX];
  out->path = realpath(path.c_str(), resolved) ? resolved : path;
  return 0;
}

}  // namespace

BlasInfo detectBlas() {
  BlasInfo info;
  dl_iterate_phdr(collectBlas, &info);
  if (info.path.empty()) {
    info.name = "unknown (no BLAS shared library loaded; LibTorch may use a built-in one)";
  } else if (info.path.find("openblas") != std::string::npos) {
    info.name = "OpenBLAS";
  } else if (info.path.find("mkl") != std::string::npos) {
    info.name = "MKL";
  } else if (info.path.find("/blas/") != std::string::npos) {
    info.name = "reference BLAS (netlib)";
    info.slow = true;
  } else {
    info.name = "unknown";
  }
  return info;
}

std::string describeBlas(const BlasInfo& info) {
  std::string text = info.name;
  if (!info.path.empty()) text += " (" + info.path + ")";
  if (info.slow) text += " - slow: install libopenblas0-pthread for ~30x faster matmuls";
  return text;
}

}  // namespace kvs
