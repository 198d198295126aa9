#pragma once
// LongBench's data files as users have them (THUDM/LongBench on Hugging Face, data/<task>.jsonl,
// and LongBench-E's <task>_e.jsonl): one JSON object per line with "input" (the question),
// "context" (the long text), "answers", "all_classes" (class names of a classification task, or
// null), "length" (the context's word count), "_id" and "language".

#include <optional>
#include <string>
#include <vector>

namespace kvs::eval {

struct LongBenchSample {
  int line = 0;  // 1-based, for messages
  std::string id;
  std::string input, context;
  std::vector<std::string> answers;
  std::vector<std::string> allClasses;  // empty when the file has null
  long long length = 0;
  std::string language;
};

// The file of a task in a LongBench data folder: <dir>/<task>.jsonl, or with longbenchE
// <dir>/<task>_e.jsonl. KvsError names the missing file and where LongBench's data comes from.
std::string longBenchDataFile(const std::string& dir, const std::string& task, bool longbenchE);

// Every non-blank line. KvsError names the file, the line and the fix for a line that is not a
// JSON object or lacks a field (or has one of the wrong type), and for a file with no samples.
std::vector<LongBenchSample> readLongBenchSamples(const std::string& path);

}  // namespace kvs::eval
