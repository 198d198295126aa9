#pragma once
// Helpers shared by the tests: paths of reference data, small files, running the CLI.

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "compress/compression_params.h"
#include "model/model_config.h"
#include "util/error.h"

namespace kvs::test {

inline std::string modelsDir() {
  return KVS_MODELS_DIR;
}
inline std::string modelPath(const std::string& name) {
  return modelsDir() + "/" + name;
}
inline std::string goldenPath(const std::string& name) {
  return std::string(KVS_GOLDEN_DIR) + "/" + name;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::vector<int> readIds(const std::string& path) {
  std::ifstream in(path);
  std::vector<int> ids;
  for (int id; in >> id;) ids.push_back(id);
  return ids;
}

// A two-layer GQA model small enough to write, read and run in milliseconds.
inline ModelConfig tinyModelConfig(bool sharedClassifier) {
  ModelConfig c;
  c.dim = 16;
  c.hiddenDim = 40;
  c.nLayers = 2;
  c.nHeads = 4;
  c.nKvHeads = 2;
  c.vocabSize = 32;
  c.seqLen = 24;
  c.sharedClassifier = sharedClassifier;
  return c;
}

// A fresh folder under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kvs-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The message of the KvsError that f throws, or "(no error)".
inline std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const KvsError& e) {
    return e.what();
  }
  return "(no error)";
}

// KVMerger at a budget, every other parameter at its default.
inline CompressionParams kvmerger(double budget) {
  CompressionParams p;
  p.method = "kvmerger";
  p.budget = budget;
  return p;
}

}  // namespace kvs::test
