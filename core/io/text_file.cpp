#include "io/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

namespace kvs {

void writeTextFile(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  require(!fs::is_directory(path, ec), "cannot write " + path + ": it is a folder; name a file");
  // A unique temporary beside the target (same file system, so the rename is atomic), never an
  // existing file of the user's.
  std::string part = path + ".part-XXXXXX";
  const int fd = ::mkstemp(part.data());
  require(fd >= 0,
          "cannot write " + path + ": " + std::strerror(errno) + "; choose a writable path");
  const auto fail = [&](const std::string& why) {
    ::close(fd);
    fs::remove(part, ec);
    throw KvsError("cannot write " + path + ": " + why);
  };
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(std::string(std::strerror(errno)) + " (disk full?)");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) fail(std::strerror(errno));
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(part, ec);
    throw KvsError("cannot write " + path + ": " + why);
  }
  if (std::rename(part.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(part, ec);
    throw KvsError("cannot write " + path + ": " + why);
  }
}

}  // namespace kvs
