#include "tokenizer/tokenizer.h"

#include <sentencepiece_processor.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/output_path.h"
#include "tokenizer/sentencepiece_model_check.h"
#include "util/error.h"

namespace kvs {

namespace {

// SentencePiece models are kilobytes to a few megabytes; a file this large is something else (a
// checkpoint named by mistake) and is refused before it is read into memory.
constexpr std::uintmax_t kMaxModelBytes = std::uintmax_t{256} << 20;

std::string readModelFile(const std::string& path) {
  std::error_code ec;
  require(!path.empty(),
          "the tokenizer path is empty; name the SentencePiece .model file the model was trained "
          "with");
  require(!std::filesystem::is_directory(path, ec),
          "tokenizer path is a folder: " + path + "; give the SentencePiece .model file in it");
  require(std::filesystem::exists(path, ec),
          "tokenizer file not found: " + path +
              "; give the SentencePiece .model file the model was trained with");
  requireRegularFile(path, "tokenizer file");  // a FIFO or a device would block or never end
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  require(!ec, "cannot read tokenizer file " + path + ": " + ec.message());
  require(size <= kMaxModelBytes,
          "the tokenizer file " + path + " is " + std::to_string(size) +
              " bytes, far more than a SentencePiece model; pass the tokenizer's .model file, "
              "not the model checkpoint");
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read tokenizer file " + path + ": " + std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  require(in.gcount() == static_cast<std::streamsize>(bytes.size()),
          "cannot read tokenizer file " + path + ": it ended early (changed while being read?)");
  return bytes;
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& path) {
  const std::string bytes = readModelFile(path);
  // SentencePiece trusts parts of the model it loads and crashes on them; check those first.
  checkSentencePieceModel(bytes, path);
  Tokenizer t;
  t.path_ = path;
  t.sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  sentencepiece::util::Status status;
  try {
    status = t.sp_->LoadFromSerializedProto(bytes);
  } catch (const std::exception& e) {  // darts-clone throws on keys it cannot build a trie of
    status = sentencepiece::util::Status(sentencepiece::util::StatusCode::kInternal, e.what());
  }
  require(status.ok(), "not a SentencePiece tokenizer model: " + path + " (" +
                           shownOnOneLine(status.ToString(), 200) +
                           "); pass the .model file the model was trained with, not llama2.c's "
                           "tokenizer .bin");
  // The checks above make these hold; every prompt begins with BOS, so make sure.
  require(t.sp_->bos_id() >= 0 && t.sp_->unk_id() >= 0,
          "damaged SentencePiece tokenizer model " + path +
              ": SentencePiece finds no BOS or unk piece in it; use an intact copy of the "
              "tokenizer the model was trained with");
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
// SentencePiece indexes its pieces with an id it does not check; these do.
bool Tokenizer::validId(int id) const {
  return id >= 0 && id < vocabSize();
}
std::string Tokenizer::piece(int id) const {
  require(validId(id), "token id " + std::to_string(id) + " is not in the tokenizer's " +
                           std::to_string(vocabSize()) + " pieces (" + path_ + ")");
  return sp_->IdToPiece(id);
}
bool Tokenizer::isByte(int id) const {
  return validId(id) && sp_->IsByte(id);
}
bool Tokenizer::isControl(int id) const {
  return validId(id) && sp_->IsControl(id);
}
bool Tokenizer::isUnknown(int id) const {
  return validId(id) && sp_->IsUnknown(id);
}

}  // namespace kvs
