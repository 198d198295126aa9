#pragma once
// Where a recording may go, checked before any work, and how its file appears on disk: created
// under a temporary name beside the target (FILE.part-XXXXXX) and moved into place only once it is
// a valid HDF5 file marked incomplete, so the target path never holds a file that does not open,
// whenever the process is killed. (core/io/hdf5_schema.md, "Incomplete files".)

#include <cstdint>
#include <string>
#include <vector>

#include "io/recording_options.h"

namespace kvs {

// The files a run reads, which its recording never replaces: the model (a llama2.c file, or a
// Hugging Face folder, whose every file counts, also when the model was named by config.json or a
// .safetensors file inside it) and the tokenizer. Empty paths are left out.
std::vector<std::string> recordingInputs(const std::string& modelPath,
                                         const std::string& tokenizerPath);

// Tokens per chunk of a state dataset holding `bytesPerToken` per position: about 256 KiB per
// chunk, a power of two between 1 and 1024.
int tokensPerChunk(int64_t bytesPerToken);

// Disk kept reserved beyond every write of a recording of `config`: two chunks of every state
// dataset, plus 1 MiB for the metadata that a flush or close writes. The recording starts only
// when this much is free.
int64_t recordingSpaceMargin(const RecordingOptions& options, const ModelConfig& config);

// Throws KvsError naming the problem and the fix unless options.path can take a recording of
// `config` now: the folder exists and is a folder; the path is not a folder, FIFO, device or
// symbolic link, not one of `inputs` (even with options.overwrite), and not an existing file
// without options.overwrite (checkOutputPath); a temporary file can be created beside it (not a
// read-only file system, not a folder without permission) and can reserve
// recordingSpaceMargin (not a full disk, not a file-size limit). Leaves nothing behind.
void checkRecordingPath(const RecordingOptions& options, const ModelConfig& config,
                        const std::vector<std::string>& inputs);

// A new empty file beside `target`, named `<target>.part-XXXXXX` (mode 0644), removed by the
// destructor unless published. Used from one thread.
class PendingFile {
 public:
  explicit PendingFile(const std::string& target);  // KvsError naming the folder's refusal
  ~PendingFile();
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  const std::string& path() const { return temporary_; }
  // Moves the file to the target in one step (a rename; open handles stay valid). Without
  // `overwrite`, a target that appeared meanwhile is kept and KvsError thrown; with it, only a
  // regular file is replaced.
  void publish(bool overwrite);

 private:
  std::string target_, temporary_;
  bool published_ = false;
};

}  // namespace kvs
