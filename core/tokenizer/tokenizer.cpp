#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <filesystem>

#include "tokenizer/bpe_backend.h"
#include "tokenizer/sentencepiece_backend.h"
#include "util/error.h"

namespace kvs {

Tokenizer Tokenizer::load(const std::string& path) {
  Tokenizer t;
  t.path_ = path;
  // A Hugging Face tokenizer.json is JSON, named so; anything else is read as SentencePiece,
  // which refuses what it is not.
  if (std::filesystem::path(path).extension() == ".json") {
    t.backend_ = loadBpeBackend(path);
  } else {
    t.backend_ = loadSentencePieceBackend(path);
    for (int id = 0; id < t.backend_->vocabSize(); ++id) {
      if (t.backend_->isUnknown(id)) {
        t.unknownSurface_ = t.backend_->decode({id});
        break;
      }
    }
  }
  t.paddedVocabSize_ = t.backend_->vocabSize();
  return t;
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

TokenizerKind Tokenizer::kind() const {
  return backend_->kind();
}

std::string Tokenizer::kindName() const {
  return kind() == TokenizerKind::kSentencePiece ? "SentencePiece"
                                                 : "byte-level BPE";
}

std::vector<int> Tokenizer::encode(const std::string& text, bool addBos) const {
  std::vector<int> ids = backend_->encode(text);
  if (addBos && bosId() >= 0) ids.insert(ids.begin(), bosId());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::vector<int> known;
  known.reserve(ids.size());
  for (int id : ids) {
    require(validId(id), "cannot decode token id " + std::to_string(id) + ": the tokenizer has " +
                             std::to_string(vocabSize()) + " ids (" + path_ + ")");
    if (!paddingId(id)) known.push_back(id);
  }
  return backend_->decode(known);
}

int Tokenizer::vocabSize() const {
  return paddedVocabSize_;
}
int Tokenizer::bosId() const {
  return backend_->bosId();
}
int Tokenizer::eosId() const {
  return backend_->eosId();
}
// The backends index their pieces with ids they do not check; these do.
bool Tokenizer::validId(int id) const {
  return id >= 0 && id < vocabSize();
}
bool Tokenizer::paddingId(int id) const {
  return id >= backend_->vocabSize();
}
std::string Tokenizer::piece(int id) const {
  require(validId(id), "token id " + std::to_string(id) + " is not in the tokenizer's " +
                           std::to_string(vocabSize()) + " pieces (" + path_ + ")");
  return paddingId(id) ? "<unused " + std::to_string(id) + ">" : backend_->piece(id);
}
int Tokenizer::pieceId(const std::string& piece) const {
  return backend_->pieceId(piece);
}
std::string Tokenizer::tokenBytes(int id) const {
  require(validId(id), "token id " + std::to_string(id) + " is not in the tokenizer's " +
                           std::to_string(vocabSize()) + " pieces (" + path_ + ")");
  return paddingId(id) ? std::string() : backend_->tokenBytes(id);
}
bool Tokenizer::isByte(int id) const {
  return validId(id) && !paddingId(id) && backend_->isByte(id);
}
bool Tokenizer::isControl(int id) const {
  return validId(id) && (paddingId(id) || backend_->isControl(id));
}
bool Tokenizer::isUnknown(int id) const {
  return validId(id) && !paddingId(id) && backend_->isUnknown(id);
}

void Tokenizer::coverModelVocab(int modelVocabSize) {
  paddedVocabSize_ = std::max(paddedVocabSize_, modelVocabSize);
}

}  // namespace kvs
