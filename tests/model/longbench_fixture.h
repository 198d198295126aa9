#pragma once
// Small LongBench-format data folders written by the tests: passage retrieval and passage count
// over the TinyStories prompts of data/prompts (the stories260K model's own stories), and a qa
// task over one story, with the fields LongBench's files have.

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace kvs::test {

inline std::vector<std::string> tinyStories() {
  std::ifstream in(std::string(KVS_SOURCE_DIR) + "/data/prompts/tinystories_prompts.txt");
  std::vector<std::string> stories;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') stories.push_back(line);
  }
  return stories;
}

// Writes <dir>/passage_retrieval_en.jsonl, passage_count.jsonl and qasper.jsonl with n samples
// each; every context holds a few stories (long enough to be cut in the middle at context 512).
inline void writeLongBenchData(const std::string& dir, int n) {
  const std::vector<std::string> stories = tinyStories();
  std::ofstream retrieval(dir + "/passage_retrieval_en.jsonl"), count(dir + "/passage_count.jsonl"),
      qa(dir + "/qasper.jsonl");
  for (int i = 0; i < n; ++i) {
    const int pick = i % 3;
    std::string context;
    for (int p = 0; p < 3; ++p) {
      context +=
          "Paragraph " + std::to_string(p + 1) + ": " + stories[(i + p) % stories.size()] + "\n\n";
    }
    const std::string summary = stories[(i + pick) % stories.size()].substr(0, 120);
    const nlohmann::json r = {{"input", summary},
                              {"context", context},
                              {"answers", {"Paragraph " + std::to_string(pick + 1)}},
                              {"length", 300},
                              {"all_classes", nullptr},
                              {"language", "en"},
                              {"_id", "r" + std::to_string(i)}};
    retrieval << r.dump() << "\n";
    nlohmann::json c = r;
    c["input"] = "";
    c["answers"] = {"3"};
    c["_id"] = "c" + std::to_string(i);
    count << c.dump() << "\n";
    nlohmann::json q = r;
    q["input"] = "What did the girl want to do?";
    q["context"] = stories[i % stories.size()];
    q["answers"] = {"play with the ball", "play"};
    q["_id"] = "q" + std::to_string(i);
    qa << q.dump() << "\n";
  }
}

}  // namespace kvs::test
