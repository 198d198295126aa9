#include "cli/record_options.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/validators.h"
#include "util/error.h"

namespace kvs::cli {

bool RecordCliOptions::enabled() const {
  return !recording.path.empty() || (pathOption && pathOption->count() > 0);
}

RecordingOptions RecordCliOptions::resolve(const std::vector<std::string>& inputs,
                                           const ModelConfig& config, bool pathIsWritten) const {
  RecordingOptions o = recording;
  o.storage = parseStateStorage(storage);
  o.validate();
  if (enabled()) {
    require(!o.path.empty(), "the recording file path is empty; name a file, e.g. --record run.h5");
    if (pathIsWritten) checkRecordingPath(o, config, inputs);
  }
  return o;
}

void addRecordOptions(CLI::App& app, RecordCliOptions& o) {
  RecordingOptions& r = o.recording;
  o.pathOption = app.add_option("--record", r.path,
                                "Record the key states (after RoPE) of every layer to this HDF5 "
                                "file; the layout is in core/io/hdf5_schema.md");
  app.add_flag("--force", r.overwrite,
               "Replace an existing recording file (never a file the run reads, nor a FIFO, "
               "folder or link)");
  app.add_option("--record-dtype", o.storage, "State storage: float32 or float16")
      ->check(CLI::IsMember({"float32", "float16"}));
  app.add_option("--record-compress", r.deflateLevel,
                 "Shuffle + deflate level 1-9 (0 = none, the fastest)")
      ->check(numberWhere<int>([](int v) { return v >= 0 && v <= 9; }, "must be 0-9"));
  app.add_flag("--record-keys-prerope", r.keysPrerope, "Also record the keys before RoPE");
  app.add_flag("--record-values", r.values, "Also record the value states");
  app.add_flag("--record-attention", r.attention,
               "Also record the prompt's attention probabilities [Hq, P, P] per layer");
  app.add_option("--record-attention-max", r.attentionMaxTokens,
                 "Longest prompt whose attention is recorded (default 1024)")
      ->check(positiveWhole());
  app.add_option("--record-flush-interval", r.flushIntervalSeconds,
                 "Most seconds between flushes while decoding: a killed run loses at most this "
                 "(default 0.05; 0 = after every token)")
      ->check(nonNegativeFinite());
}

std::unique_ptr<Hdf5Recorder> startRecording(const RecordingOptions& options,
                                             const RecordingMeta& meta, std::string* error) {
  try {
    return std::make_unique<Hdf5Recorder>(options, meta);
  } catch (const KvsError& e) {
    *error = e.what();
    std::cerr << "kvstudio-cli: error: " << *error << "; generating without recording\n";
    return nullptr;
  }
}

bool finishRecording(Hdf5Recorder* recorder, const std::string& startError) {
  if (!startError.empty()) {
    std::cerr << "kvstudio-cli: error: nothing was recorded: " << startError << "\n";
    return false;
  }
  if (!recorder) return true;
  recorder->finish();
  if (!recorder->ok()) {
    std::cerr << "kvstudio-cli: error: " << recorder->error() << "\n";
    return false;
  }
  std::cerr << "recorded " << recorder->recordedTokens() << " tokens to " << recorder->path()
            << "\n";
  return true;
}

}  // namespace kvs::cli
