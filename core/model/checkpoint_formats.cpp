#include "model/checkpoint_formats.h"

#include <filesystem>

#include "model/hf_checkpoint.h"
#include "model/llama2c_checkpoint.h"
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

const std::vector<CheckpointFormat>& checkpointFormats() {
  // To add a format: one file implementing CheckpointReader with its recognises/open pair, and
  // one line here (and its name in the two messages of checkpointFormatFor, when users should be
  // told about it). Order matters where formats overlap: Hugging Face claims config.json and
  // .safetensors files inside its folders, llama2.c any other file, so it comes last.
  static const std::vector<CheckpointFormat> formats = {
      {"Hugging Face", recognisesHfCheckpoint, openHfCheckpoint},
      {"llama2.c", recognisesLlama2cCheckpoint, openLlama2cCheckpoint},
  };
  return formats;
}

const CheckpointFormat& checkpointFormatFor(const std::string& path) {
  std::error_code ec;
  require(fs::exists(path, ec), "model not found: " + path +
                                    "; give a llama2.c .bin file or a Hugging Face folder "
                                    "(config.json + model.safetensors)");
  for (const CheckpointFormat& format : checkpointFormats()) {
    if (format.recognises(path)) return format;
  }
  // Only a folder gets here (llama2.c takes any file); a model folder is a Hugging Face one.
  throw KvsError("folder " + path +
                 " has no config.json, so it is not a Hugging Face model "
                 "folder; give such a folder or a llama2.c .bin file");
}

}  // namespace kvs
