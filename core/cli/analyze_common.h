#pragma once
// What `kvstudio-cli analyze` (analyze_command.cpp) and `analyze --batch` (analyze_batch.cpp)
// share: the options, opening a recording safely, and turning recorded keys into ratios.

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "analysis/merge_analysis.h"
#include "io/recording_reader.h"

namespace kvs::cli {

struct AnalyzeOptions {
  std::vector<std::string> files;
  int layer = 0;
  int head = -1;  // -1 with meanHeads; otherwise 0 by default
  bool meanHeads = false;
  std::string source = "keys";
  bool allTokens = false;
  MergeThresholds thresholds;
  std::string similarityCsv, adjacentCsv, setsCsv, ratiosCsv;
  bool batch = false;
  bool force = false;  // replace existing output files
  std::string model, tokenizer, promptsFile;
};

// Keys [Hkv, T, D] of every layer and the attention of the analysed tokens, from one source.
struct LayerStates {
  std::vector<at::Tensor> keys;                             // [L] of [Hkv, T, D]
  std::vector<std::vector<std::vector<double>>> attention;  // [L][Hkv][T], or empty
};

std::string csvText(const std::string& s);

// The recording at `path`, read and validated in a child process first (checkRecording: a file
// that crashes libhdf5 becomes a KvsError), with a note on stderr about what a cut or damaged
// file lacks.
RecordingReader openRecording(const std::string& path);

// T: the prompt's tokens (or every recorded token), at least 2; KvsError naming the file else.
int analysedTokens(const RecordingReader& r, bool allTokens);

LayerStates fromRecording(const RecordingReader& r, StateSource source, int T);

// [L] compression ratios at the thresholds.
std::vector<double> layerRatios(const LayerStates& s, const MergeThresholds& t);

int analyzeBatch(const AnalyzeOptions& o);

}  // namespace kvs::cli
