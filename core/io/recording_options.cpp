#include "io/recording_options.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace kvs {

const char* toString(StateStorage storage) {
  return storage == StateStorage::kFloat16 ? "float16" : "float32";
}

StateStorage parseStateStorage(const std::string& text) {
  if (text == "float32" || text == "f32") return StateStorage::kFloat32;
  if (text == "float16" || text == "f16") return StateStorage::kFloat16;
  throw KvsError("unknown state storage '" + text + "'; use float32 or float16");
}

void RecordingOptions::validate() const {
  require(deflateLevel >= 0 && deflateLevel <= 9,
          "compression level " + std::to_string(deflateLevel) + " is outside 0-9");
  require(attentionMaxTokens > 0, "attention token limit must be positive");
  require(flushIntervalSeconds >= 0, "flush interval must not be negative");
}

nlohmann::json toJson(const RecordingOptions& o) {
  return {{"state_dtype", toString(o.storage)},
          {"deflate_level", o.deflateLevel},
          {"keys", true},
          {"keys_prerope", o.keysPrerope},
          {"values", o.values},
          {"attention", o.attention},
          {"attention_max_tokens", o.attentionMaxTokens},
          {"flush_interval_seconds", o.flushIntervalSeconds}};
}

}  // namespace kvs
