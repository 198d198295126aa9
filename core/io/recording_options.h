#pragma once
// What a recording holds and how it is stored; plain values shared by the CLI, the GUI and tests.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/model_config.h"

namespace kvs {

enum class StateStorage { kFloat32, kFloat16 };
const char* toString(StateStorage storage);
StateStorage parseStateStorage(const std::string& text);  // "float32" | "float16"

struct RecordingOptions {
  std::string path;
  bool overwrite = false;  // refuse an existing file unless set (the CLI's --force)
  StateStorage storage = StateStorage::kFloat32;
  int deflateLevel = 0;           // 0 = none; 1-9 = shuffle + deflate (smaller, slower)
  bool keysPrerope = false;       // keys before RoPE
  bool values = false;            // value states
  bool attention = false;         // softmax attention of the prompt, [Hq, P, P] per layer
  int attentionMaxTokens = 1024;  // attention is skipped (and says so) for longer prompts
  // Decoded tokens are written and the file flushed when this many seconds have passed since the
  // last flush: after every token of a large model, in blocks for a tiny one (flushing after each
  // of stories260K's 0.4 ms tokens would slow decoding by 1.5x). A killed process loses at most
  // this much; 0 flushes after every token.
  double flushIntervalSeconds = 0.05;

  void validate() const;  // KvsError naming the bad field
};

nlohmann::json toJson(const RecordingOptions& options);

// Who made the recording and from what; written once into /meta.
struct RecordingMeta {
  ModelConfig config;
  std::string checkpointPath;
  std::string checkpointSha256;
  std::string tokenizerPath;
  std::string prompt;
  std::vector<int> promptIds;
  std::vector<std::string> promptPieces;
  uint64_t seed = 0;
  std::string command;   // e.g. "generate", "compare"
  std::string settings;  // JSON text of the run's settings (sampling, steps, ...)
};

}  // namespace kvs
