#pragma once
// Reserves disk blocks ahead of a growing file (fallocate with FALLOC_FL_KEEP_SIZE), so that a
// full disk shows up here, before a write, and never inside HDF5: HDF5 1.10 cannot close a file
// after a failed write and crashes at exit. Where the file system cannot reserve (EOPNOTSUPP),
// reserve() reports success and writes go ahead unprotected.

#include <cstdint>
#include <string>

namespace kvs {

class DiskReservation {
 public:
  // KvsError when the file cannot be opened. Messages name the file `shownAs` when given (the
  // recording's path while it is written under a temporary name).
  explicit DiskReservation(const std::string& path, const std::string& shownAs = "");
  ~DiskReservation();
  DiskReservation(const DiskReservation&) = delete;
  DiskReservation& operator=(const DiskReservation&) = delete;

  // Makes sure `bytes` beyond the file's current size are reserved; false (with error()) when
  // the disk is full or the file may not grow (RLIMIT_FSIZE).
  bool reserve(int64_t bytes);
  const std::string& error() const { return error_; }
  int64_t reservedEnd() const { return reservedEnd_; }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t reservedEnd_ = 0;
  bool supported_ = true;
  std::string error_;
};

}  // namespace kvs
