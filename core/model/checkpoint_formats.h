#pragma once
// The table of checkpoint formats: which reader opens a given path. model_loader.cpp asks it
// instead of knowing the formats itself; adding a format is one file implementing
// CheckpointReader plus one line in the table (checkpoint_formats.cpp).

#include <memory>
#include <string>
#include <vector>

#include "model/checkpoint_reader.h"

namespace kvs {

struct CheckpointFormat {
  const char* name;  // short and stable, e.g. "llama2.c", "Hugging Face" (ModelInfo::format)
  // Cheap: looks at the path only (its kind, its name, a folder's listing), never reads weights.
  bool (*recognises)(const std::string& path);
  // Opens a recognised path; KvsError naming the problem and the fix.
  std::unique_ptr<CheckpointReader> (*open)(const std::string& path);
};

// Every format, in the order they are tried: the first that recognises a path opens it.
const std::vector<CheckpointFormat>& checkpointFormats();

// The format for path; KvsError "model not found: ..." when nothing is there, or a message naming
// the formats to give when no format recognises what is there.
const CheckpointFormat& checkpointFormatFor(const std::string& path);

}  // namespace kvs
