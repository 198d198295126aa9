#include "tokenizer/tokenizer.h"

#include <sentencepiece_processor.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace kvs {

Tokenizer Tokenizer::load(const std::string& path) {
  std::error_code ec;
  require(!std::filesystem::is_directory(path, ec),
          "tokenizer path is a folder: " + path + "; give the SentencePiece .model file in it");
  require(std::filesystem::is_regular_file(path, ec),
          "tokenizer file not found: " + path +
              "; give the SentencePiece .model file the model was trained with");
  require(std::ifstream(path, std::ios::binary).good(),
          "cannot read tokenizer file " + path + ": " + std::strerror(errno));
  Tokenizer t;
  t.path_ = path;
  t.sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = t.sp_->Load(path);
  require(status.ok(), "not a SentencePiece tokenizer model: " + path + " (" + status.ToString() +
                           "); pass the .model file, not llama2.c's tokenizer .bin");
  t.unknownSurface_ = t.decode({t.sp_->unk_id()});
  return t;
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<int> Tokenizer::encode(const std::string& text, bool addBos) const {
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  require(status.ok(), "cannot tokenize the text: " + status.ToString());
  if (addBos) ids.insert(ids.begin(), bosId());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  const auto status = sp_->Decode(ids, &text);
  require(status.ok(), "cannot decode token ids: " + status.ToString());
  return text;
}

int Tokenizer::vocabSize() const {
  return sp_->GetPieceSize();
}
int Tokenizer::bosId() const {
  return sp_->bos_id();
}
int Tokenizer::eosId() const {
  return sp_->eos_id();
}
std::string Tokenizer::piece(int id) const {
  return sp_->IdToPiece(id);
}
bool Tokenizer::isByte(int id) const {
  return sp_->IsByte(id);
}
bool Tokenizer::isControl(int id) const {
  return sp_->IsControl(id);
}
bool Tokenizer::isUnknown(int id) const {
  return sp_->IsUnknown(id);
}

}  // namespace kvs
