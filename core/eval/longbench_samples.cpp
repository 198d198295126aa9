#include "eval/longbench_samples.h"

#include <filesystem>

#include "eval/json_lines.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

const char* const kSampleHint =
    "each line should be one LongBench sample: {\"input\": \"...\", \"context\": \"...\", "
    "\"answers\": [\"...\"], \"all_classes\": null, \"length\": 1234, \"_id\": \"...\"}";

LongBenchSample readSample(const nlohmann::json& json, int line, const std::string& where) {
  LongBenchSample s;
  s.line = line;
  s.input = stringField(json, where, "input", "the question");
  s.context = stringField(json, where, "context", "the long text");
  require(json.contains("answers"), where + " has no \"answers\"; " + kSampleHint);
  s.answers = stringList(json, where, "answers", true);
  s.allClasses = optionalStringList(json, where, "all_classes").value_or(s.allClasses);
  s.length = optionalWhole(json, where, "length").value_or(0);
  // Records are keyed by _id; a file without ids (hand-made) is keyed by line number.
  s.id = json.contains("_id") && json["_id"].is_string() ? json["_id"].get<std::string>()
                                                         : "line" + std::to_string(line);
  if (json.contains("language") && json["language"].is_string()) {
    s.language = json["language"].get<std::string>();
  }
  return s;
}

}  // namespace

std::string longBenchDataFile(const std::string& dir, const std::string& task, bool longbenchE) {
  const std::string path = dir + "/" + task + (longbenchE ? "_e" : "") + ".jsonl";
  require(std::filesystem::is_regular_file(path),
          "no LongBench data for " + task + ": " + path +
              " does not exist; give --data the folder of LongBench's <task>.jsonl files (THUDM/"
              "LongBench on Hugging Face, data.zip)");
  return path;
}

std::vector<LongBenchSample> readLongBenchSamples(const std::string& path) {
  std::vector<LongBenchSample> samples;
  forEachJsonLine(path, "the LongBench data file", kSampleHint,
                  [&](const nlohmann::json& json, int line, const std::string& where) {
                    samples.push_back(readSample(json, line, where));
                  });
  require(!samples.empty(), "the LongBench data file " + path + " has no samples");
  return samples;
}

}  // namespace kvs::eval
