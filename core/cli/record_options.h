#pragma once
// The --record flags shared by generate and compare, and starting a recording so that a problem
// with the file never costs the user the generation: it is reported and the run goes on.

#include <memory>
#include <string>
#include <vector>

#include "io/hdf5_recorder.h"
#include "io/recording_options.h"

namespace CLI {
class App;
}

namespace kvs {
class Tokenizer;
}

namespace kvs::cli {

struct RecordCliOptions {
  RecordingOptions recording;
  std::string storage = "float32";

  bool enabled() const { return !recording.path.empty(); }
  // Parses the storage name, validates, and refuses an existing file without --force, before any
  // work is done; KvsError otherwise.
  RecordingOptions resolve() const;
};

void addRecordOptions(CLI::App& app, RecordCliOptions& o);

// What /meta says about a run of this model, tokenizer and prompt (hashes the checkpoint unless
// its hash is given).
RecordingMeta describeRun(const std::string& modelPath, const ModelConfig& config,
                          const Tokenizer& tokenizer, const std::string& prompt,
                          const std::vector<int>& promptIds, uint64_t seed,
                          const std::string& command, const std::string& settingsJson,
                          const std::string& knownSha256 = "");

// Opens the recording; when that fails, prints the reason and returns null with *error set.
std::unique_ptr<Hdf5Recorder> startRecording(const RecordingOptions& options,
                                             const RecordingMeta& meta, std::string* error);

// Finishes the recording and says on stderr where it went; returns false (after printing the
// reason) when it failed at any point.
bool finishRecording(Hdf5Recorder* recorder, const std::string& startError);

}  // namespace kvs::cli
