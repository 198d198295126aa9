#include "io/output_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace kvs {
namespace {

namespace fs = std::filesystem;

const char* kindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

bool sameFile(const struct stat& a, const std::string& other) {
  struct stat b {};
  return ::stat(other.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Whether the file `st` is `input`, or a file directly inside the folder `input`.
bool isInput(const struct stat& st, const std::string& input) {
  if (input.empty()) return false;
  if (sameFile(st, input)) return true;
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return false;
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    if (sameFile(st, entry.path().string())) return true;
  }
  return false;
}

}  // namespace

void checkOutputPath(const std::string& path, bool force, const std::vector<std::string>& inputs,
                     const std::string& what) {
  require(!path.empty(), "the " + what + " path is empty; name a file");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    require(S_ISREG(st.st_mode), "the " + what + " " + path + " is " + kindOf(st.st_mode) +
                                     ", which is never replaced; name a new file");
    for (const std::string& input : inputs) {
      require(!isInput(st, input), "the " + what + " " + path + " is " + input +
                                       ", which this run reads; it is never overwritten, even "
                                       "with --force: name another file");
    }
    require(force, "the " + what + " " + path +
                       " already exists; pass --force to replace it, or name another file");
  } else {
    require(errno == ENOENT, "cannot use the " + what + " " + path + ": " + std::strerror(errno));
  }
  const fs::path parent =
      fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  std::error_code ec;
  require(fs::is_directory(parent, ec), "cannot write the " + what + " " + path + ": the folder " +
                                            parent.string() + " does not exist");
  require(::access(parent.c_str(), W_OK) == 0,
          "cannot write the " + what + " " + path + ": the folder " + parent.string() +
              " is not writable (" + std::strerror(errno) + ")");
}

void requireRegularFile(const std::string& path, const std::string& what) {
  require(!path.empty(), "the " + what + " path is empty; name a file");
  struct stat st {};
  require(::stat(path.c_str(), &st) == 0,
          "cannot open the " + what + " " + path + ": " + std::strerror(errno));
  require(S_ISREG(st.st_mode), "the " + what + " " + path + " is " + kindOf(st.st_mode) +
                                   ", not a regular file; name a file");
}

}  // namespace kvs
