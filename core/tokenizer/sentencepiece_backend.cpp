#include "tokenizer/sentencepiece_backend.h"

#include <sentencepiece_processor.h>

#include <cerrno>
#include <cstdlib>
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

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's space

std::string readModelFile(const std::string& path) {
  std::error_code ec;
  require(!path.empty(),
          "the tokenizer path is empty; name the SentencePiece .model file the model was trained "
          "with");
  require(!std::filesystem::is_directory(path, ec),
          "tokenizer path is a folder: " + path +
              "; give the SentencePiece .model file or the tokenizer.json in it");
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

class SentencePieceBackend : public TokenizerBackend {
 public:
  explicit SentencePieceBackend(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp)
      : sp_(std::move(sp)) {}

  TokenizerKind kind() const override { return TokenizerKind::kSentencePiece; }
  std::vector<int> encode(const std::string& text) const override {
    std::vector<int> ids;
    const auto status = sp_->Encode(text, &ids);
    require(status.ok(), "cannot tokenize the text: " + status.ToString());
    return ids;
  }
  std::string decode(const std::vector<int>& ids) const override {
    std::string text;
    const auto status = sp_->Decode(ids, &text);
    require(status.ok(), "cannot decode token ids: " + status.ToString());
    return text;
  }
  int vocabSize() const override { return sp_->GetPieceSize(); }
  int bosId() const override { return sp_->bos_id(); }
  int eosId() const override { return sp_->eos_id(); }
  std::string piece(int id) const override { return sp_->IdToPiece(id); }
  int pieceId(const std::string& piece) const override {
    const int id = sp_->PieceToId(piece);
    // SentencePiece answers unk's id for a piece it lacks.
    return id == sp_->unk_id() && piece != sp_->IdToPiece(id) ? -1 : id;
  }
  std::string tokenBytes(int id) const override {
    if (sp_->IsControl(id)) return "";
    if (sp_->IsUnknown(id)) return decode({id});
    std::string p = sp_->IdToPiece(id);
    if (sp_->IsByte(id))
      return std::string(1, static_cast<char>(std::strtol(p.c_str() + 3, nullptr, 16)));
    for (size_t pos = 0; (pos = p.find(kSpaceSymbol, pos)) != std::string::npos; pos += 1) {
      p.replace(pos, kSpaceSymbol.size(), " ");
    }
    return p;
  }
  bool isByte(int id) const override { return sp_->IsByte(id); }
  bool isControl(int id) const override { return sp_->IsControl(id); }
  bool isUnknown(int id) const override { return sp_->IsUnknown(id); }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
};

}  // namespace

std::unique_ptr<TokenizerBackend> loadSentencePieceBackend(const std::string& path) {
  const std::string bytes = readModelFile(path);
  // SentencePiece trusts parts of the model it loads and crashes on them; check those first.
  checkSentencePieceModel(bytes, path);
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  sentencepiece::util::Status status;
  try {
    status = sp->LoadFromSerializedProto(bytes);
  } catch (const std::exception& e) {  // darts-clone throws on keys it cannot build a trie of
    status = sentencepiece::util::Status(sentencepiece::util::StatusCode::kInternal, e.what());
  }
  require(status.ok(), "not a SentencePiece tokenizer model: " + path + " (" +
                           shownOnOneLine(status.ToString(), 200) +
                           "); pass the .model file the model was trained with (or a Hugging "
                           "Face tokenizer.json), not llama2.c's tokenizer .bin");
  // The checks above make these hold; every prompt begins with BOS, so make sure.
  require(sp->bos_id() >= 0 && sp->unk_id() >= 0,
          "damaged SentencePiece tokenizer model " + path +
              ": SentencePiece finds no BOS or unk piece in it; use an intact copy of the "
              "tokenizer the model was trained with");
  return std::make_unique<SentencePieceBackend>(std::move(sp));
}

}  // namespace kvs
