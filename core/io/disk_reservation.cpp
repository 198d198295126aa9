#include "io/disk_reservation.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace kvs {

DiskReservation::DiskReservation(const std::string& path, const std::string& shownAs)
    : path_(shownAs.empty() ? path : shownAs) {
  fd_ = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  require(fd_ >= 0, "cannot open " + path_ + ": " + std::strerror(errno));
}

DiskReservation::~DiskReservation() {
  if (fd_ < 0) return;
  // Give back blocks reserved past the end: truncating to the current size frees them.
  struct stat st {};
  if (fstat(fd_, &st) == 0) (void)!ftruncate(fd_, st.st_size);
  close(fd_);
}

bool DiskReservation::reserve(int64_t bytes) {
  if (!supported_) return true;
  struct stat st {};
  if (fstat(fd_, &st) != 0) {
    error_ = "cannot stat " + path_ + ": " + std::strerror(errno);
    return false;
  }
  const int64_t need = int64_t(st.st_size) + bytes;
  // Reserved blocks do not lift a file-size limit (ulimit -f), so it is checked here.
  rlimit limit{};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      need > int64_t(limit.rlim_cur)) {
    error_ = "the file would pass the file size limit (ulimit -f) of " +
             std::to_string(limit.rlim_cur) + " bytes";
    return false;
  }
  if (need <= reservedEnd_) return true;
  // Reserve a quarter more than needed (at least 8 MiB) so this runs rarely.
  const int64_t end = need + std::max<int64_t>(need / 4, 8 << 20);
  if (fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, end) == 0) {
    reservedEnd_ = end;
    return true;
  }
  if (errno == EOPNOTSUPP || errno == ENOSYS) {
    supported_ = false;
    return true;
  }
  // The exact amount may still fit where the generous one did not.
  if (fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, need) == 0) {
    reservedEnd_ = need;
    return true;
  }
  error_ = std::string(std::strerror(errno)) + " while reserving " + std::to_string(need >> 20) +
           " MiB for " + path_;
  return false;
}

}  // namespace kvs
