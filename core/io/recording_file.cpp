#include "io/recording_file.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/disk_reservation.h"
#include "io/output_path.h"
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;
namespace {

constexpr const char* kWhat = "recording file";
constexpr const char* kPartSuffix = ".part-XXXXXX";  // mkstemp's pattern

// The folder a path's file goes into ("." for a bare name).
fs::path folderOf(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// `<target>.part-XXXXXX`, with the target's name shortened where the whole would pass the
// longest file name the system allows (the temporary must not fail where the target would not).
std::string temporaryPattern(const std::string& target) {
  const fs::path path(target);
  std::string name = path.filename().string();
  const size_t room = NAME_MAX - std::strlen(kPartSuffix);
  if (name.size() > room) name.resize(room);
  return (path.parent_path() / (name + kPartSuffix)).string();
}

// Refuses, with a message that says what to do, a folder that is missing or is not one.
void requireFolder(const std::string& path) {
  const fs::path folder = folderOf(path);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    const int error = errno;
    require(error != ENOENT, "cannot record to " + path + ": the folder " + folder.string() +
                                 " does not exist; create it or choose another path");
    require(error != ENOTDIR, "cannot record to " + path + ": " + folder.string() +
                                  " is not a folder (part of it is a file); choose a path in "
                                  "an existing folder");
    throw KvsError("cannot record to " + path + ": the folder " + folder.string() + " cannot be " +
                   "used (" + std::strerror(error) + "); choose another path");
  }
  require(S_ISDIR(st.st_mode), "cannot record to " + path + ": " + folder.string() +
                                   " is a file, not a folder; choose a path in an existing folder");
}

}  // namespace

std::vector<std::string> recordingInputs(const std::string& modelPath,
                                         const std::string& tokenizerPath) {
  std::vector<std::string> inputs;
  if (!modelPath.empty()) {
    inputs.push_back(modelPath);
    // The model loader reads a whole Hugging Face folder when given one of its files.
    const fs::path model(modelPath);
    const std::string name = model.filename().string();
    std::error_code ec;
    const bool hfFile = name == "config.json" || name == "model.safetensors.index.json" ||
                        model.extension() == ".safetensors";
    if (hfFile && fs::is_regular_file(model, ec) &&
        fs::is_regular_file(folderOf(modelPath) / "config.json", ec)) {
      inputs.push_back(folderOf(modelPath).string());
    }
  }
  if (!tokenizerPath.empty()) inputs.push_back(tokenizerPath);
  return inputs;
}

int tokensPerChunk(int64_t bytesPerToken) {
  int tokens = 1;
  while (tokens < 1024 && int64_t(tokens) * 2 * bytesPerToken <= 256 * 1024) tokens *= 2;
  return tokens;
}

int64_t recordingSpaceMargin(const RecordingOptions& options, const ModelConfig& config) {
  const int bytes = options.storage == StateStorage::kFloat16 ? 2 : 4;
  const int64_t tokenBytes = int64_t(config.nKvHeads) * config.headDim() * bytes;
  const int sets = 1 + options.keysPrerope + options.values;
  return int64_t(config.nLayers) * sets * tokensPerChunk(tokenBytes) * tokenBytes * 2 + (1 << 20);
}

void checkRecordingPath(const RecordingOptions& options, const ModelConfig& config,
                        const std::vector<std::string>& inputs) {
  const std::string& path = options.path;
  require(!path.empty(), "the recording file path is empty; name a file, e.g. --record run.h5");
  requireFolder(path);
  std::error_code ec;
  require(!fs::is_directory(fs::symlink_status(path, ec)),
          "cannot record to " + path + ": it is a folder; name a file, e.g. " +
              (fs::path(path) / "run.h5").string());
  checkOutputPath(path, options.overwrite, inputs, kWhat);
  // What only trying tells: a read-only file system, a full disk, a file-size limit.
  const PendingFile probe(path);
  DiskReservation space(probe.path(), path);
  require(space.reserve(recordingSpaceMargin(options, config)),
          "not enough disk space to record to " + path + ": " + space.error() +
              "; free some space or record to another disk");
}

PendingFile::PendingFile(const std::string& target) : target_(target) {
  temporary_ = temporaryPattern(target);
  const int fd = ::mkstemp(temporary_.data());
  if (fd < 0) {
    const int error = errno;
    temporary_.clear();
    throw KvsError("cannot write the " + std::string(kWhat) + " " + target + ": " +
                   std::strerror(error) + " when creating a file in " + folderOf(target).string() +
                   "; choose a writable folder");
  }
  // mkstemp makes the file private (0600); a recording is shared like any other output.
  (void)::fchmod(fd, 0644);
  ::close(fd);
}

PendingFile::~PendingFile() {
  if (!published_ && !temporary_.empty()) ::unlink(temporary_.c_str());
}

void PendingFile::publish(bool overwrite) {
  const std::string appeared = "the " + std::string(kWhat) + " " + target_ +
                               " appeared while the recording started; it was kept: pass "
                               "--force to replace it, or name another file";
  struct stat st {};
  if (!overwrite) {
    // A hard link never replaces what is there: the no-overwrite promise holds even in a race.
    if (::link(temporary_.c_str(), target_.c_str()) == 0) {
      published_ = true;
      ::unlink(temporary_.c_str());
      return;
    }
    require(errno != EEXIST, appeared);
    // A file system without hard links: look once more, then rename.
    require(::lstat(target_.c_str(), &st) != 0 && errno == ENOENT, appeared);
  } else if (::lstat(target_.c_str(), &st) == 0) {
    require(S_ISREG(st.st_mode), "the " + std::string(kWhat) + " " + target_ +
                                     " is no longer a regular file; it is never replaced: "
                                     "name a new file");
  }
  if (std::rename(temporary_.c_str(), target_.c_str()) != 0) {
    throw KvsError("cannot move the " + std::string(kWhat) + " into place at " + target_ + ": " +
                   std::strerror(errno) + "; choose another path");
  }
  published_ = true;
}

}  // namespace kvs
