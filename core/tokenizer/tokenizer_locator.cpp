#include "tokenizer/tokenizer_locator.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;

namespace {

// Qwen's embedding has rows past the tokenizer's last id (padded to a multiple of 128), so a
// tokenizer.json may have fewer ids than the model; the rest become unused ids.
bool fits(const Tokenizer& t, int modelVocabSize) {
  return t.kind() == TokenizerKind::kByteLevelBpe ? t.vocabSize() <= modelVocabSize
                                                  : t.vocabSize() == modelVocabSize;
}

void requireVocabMatch(Tokenizer& t, int modelVocabSize, const std::string& modelPath) {
  require(fits(t, modelVocabSize),
          "tokenizer " + t.path() + " has " + std::to_string(t.vocabSize()) + " pieces but model " +
              modelPath + " has a vocabulary of " + std::to_string(modelVocabSize) +
              "; pass the tokenizer the model was trained with (--tokenizer)");
  t.coverModelVocab(modelVocabSize);
}

// The folder a model's tokenizer is looked for in: a Hugging Face folder itself, or a file's.
fs::path folderOf(const std::string& modelPath) {
  std::error_code ec;
  return fs::is_directory(modelPath, ec) ? fs::absolute(modelPath)
                                         : fs::absolute(modelPath).parent_path();
}

}  // namespace

Tokenizer locateTokenizer(const std::string& modelPath, const std::string& explicitPath,
                          int modelVocabSize) {
  if (!explicitPath.empty()) {
    Tokenizer t = Tokenizer::load(explicitPath);
    requireVocabMatch(t, modelVocabSize, modelPath);
    return t;
  }
  // A Hugging Face folder holds its tokenizer.model (Llama 2, Mistral) or tokenizer.json (Llama
  // 3.x, Qwen); a file's neighbours are candidates. Where both are there (Mistral's folders have
  // both), SentencePiece's own model comes first.
  std::error_code ec;
  const fs::path folder = folderOf(modelPath);
  std::vector<fs::path> candidates;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.is_regular_file() &&
        (entry.path().extension() == ".model" || entry.path().filename() == "tokenizer.json")) {
      candidates.push_back(entry.path());
    }
  }
  const auto order = [](const fs::path& p) {
    return p.filename() == "tokenizer.model" ? 0 : p.extension() == ".model" ? 1 : 2;
  };
  std::sort(candidates.begin(), candidates.end(), [&](const fs::path& a, const fs::path& b) {
    return order(a) != order(b) ? order(a) < order(b) : a < b;
  });
  std::string tried;
  for (const auto& path : candidates) {
    try {
      Tokenizer t = Tokenizer::load(path.string());
      if (fits(t, modelVocabSize)) {
        t.coverModelVocab(modelVocabSize);
        return t;
      }
      tried += " " + path.filename().string() + " (" + std::to_string(t.vocabSize()) + " pieces)";
    } catch (const KvsError& e) {
      tried += " " + path.filename().string() + " (" + e.what() + ")";
    }
  }
  throw KvsError("no tokenizer given and no SentencePiece .model file or tokenizer.json with " +
                 std::to_string(modelVocabSize) + " pieces next to " + modelPath +
                 (tried.empty() ? std::string(" (none found)") : "; tried:" + tried) +
                 "; name the tokenizer explicitly (--tokenizer PATH)");
}

std::string describeTokenizerIn(const std::string& modelPath, int modelVocabSize) {
  try {
    const Tokenizer t = locateTokenizer(modelPath, "", modelVocabSize);
    return t.kindName() + ", " + fs::path(t.path()).filename().string();
  } catch (const KvsError&) {
    return "none found next to the model";
  }
}

}  // namespace kvs
