#pragma once
// The --record flags shared by generate and compare, and starting a recording so that a problem
// with the file never costs the user the generation: it is reported and the run goes on.

#include <memory>
#include <string>
#include <vector>

#include "io/hdf5_recorder.h"
#include "io/recording_file.h"
#include "io/recording_options.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace kvs::cli {

struct RecordCliOptions {
  RecordingOptions recording;
  std::string storage = "float32";
  const CLI::Option* pathOption = nullptr;  // --record, set by addRecordOptions

  // --record was given, even with an empty path (refused by resolve, never ignored).
  bool enabled() const;
  // Parses the storage name and validates; when recording, refuses an empty path and, before any
  // work, a path that could not take a recording of `config` (checkRecordingPath: one of
  // `inputs`, the files the run reads, even with --force; an existing file without --force; a
  // FIFO, folder or link; a missing or unwritable folder; no space). KvsError otherwise.
  // pathIsWritten = false: the run writes files named after the path instead (compare's
  // FILE_p001.h5 ... for several prompts), which the caller resolves one by one.
  RecordingOptions resolve(const std::vector<std::string>& inputs, const ModelConfig& config,
                           bool pathIsWritten = true) const;
};

void addRecordOptions(CLI::App& app, RecordCliOptions& o);

// Opens the recording; when that fails, prints the reason and returns null with *error set (for
// a run that goes on after others were recorded: compare's later prompts, whose paths resolve
// checked before any work). generate constructs its Hdf5Recorder directly: it stops on an error.
std::unique_ptr<Hdf5Recorder> startRecording(const RecordingOptions& options,
                                             const RecordingMeta& meta, std::string* error);

// Finishes the recording and says on stderr where it went; returns false (after printing the
// reason) when it failed at any point.
bool finishRecording(Hdf5Recorder* recorder, const std::string& startError = "");

}  // namespace kvs::cli
