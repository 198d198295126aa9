#include "tokenizer/tokenizer_locator.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

namespace {

void requireVocabMatch(const Tokenizer& t, int modelVocabSize, const std::string& modelPath) {
  require(t.vocabSize() == modelVocabSize,
          "tokenizer " + t.path() + " has " + std::to_string(t.vocabSize()) + " pieces but model " +
              modelPath + " has a vocabulary of " + std::to_string(modelVocabSize) +
              "; pass the tokenizer the model was trained with (--tokenizer)");
}

}  // namespace

Tokenizer locateTokenizer(const std::string& modelPath, const std::string& explicitPath,
                          int modelVocabSize) {
  if (!explicitPath.empty()) {
    Tokenizer t = Tokenizer::load(explicitPath);
    requireVocabMatch(t, modelVocabSize, modelPath);
    return t;
  }
  // A Hugging Face folder holds its tokenizer.model; a file's neighbours are candidates.
  std::error_code ec;
  const bool isFolder = fs::is_directory(modelPath, ec);
  const fs::path folder =
      isFolder ? fs::absolute(modelPath) : fs::absolute(modelPath).parent_path();
  std::vector<fs::path> candidates;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".model") {
      candidates.push_back(entry.path());
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    const bool aFirst = a.filename() == "tokenizer.model",
               bFirst = b.filename() == "tokenizer.model";
    return aFirst != bFirst ? aFirst : a < b;
  });
  std::string tried;
  for (const auto& path : candidates) {
    try {
      Tokenizer t = Tokenizer::load(path.string());
      if (t.vocabSize() == modelVocabSize) return t;
      tried += " " + path.filename().string() + " (" + std::to_string(t.vocabSize()) + " pieces)";
    } catch (const KvsError& e) {
      tried += " " + path.filename().string() + " (" + e.what() + ")";
    }
  }
  throw KvsError("no tokenizer given and no SentencePiece .model file with " +
                 std::to_string(modelVocabSize) + " pieces next to " + modelPath +
                 (tried.empty() ? std::string(" (none found)") : "; tried:" + tried) +
                 "; name the tokenizer explicitly (--tokenizer PATH)");
}

}  // namespace kvs
