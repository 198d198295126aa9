#pragma once
// Tokenizer over a SentencePiece .model file (the SentencePiece library does the work).

#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace kvs {

class Tokenizer {
 public:
  // Throws KvsError when the file is missing, is not a SentencePiece model, or is a damaged one
  // (checkSentencePieceModel) that SentencePiece would crash on.
  static Tokenizer load(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // SentencePiece ids of text, with BOS first when addBos.
  std::vector<int> encode(const std::string& text, bool addBos = true) const;
  // SentencePiece's own decoding of a whole sequence (control tokens are invisible).
  std::string decode(const std::vector<int>& ids) const;

  const std::string& path() const { return path_; }
  int vocabSize() const;
  int bosId() const;
  int eosId() const;
  std::string piece(int id) const;  // e.g. "▁Once", "<0x0A>", "<s>"; KvsError out of range
  // false for an id out of range
  bool isByte(int id) const;
  bool isControl(int id) const;
  bool isUnknown(int id) const;
  // What <unk> decodes to: the model's trainer_spec.unk_surface (usually " \u2047 ").
  const std::string& unknownSurface() const { return unknownSurface_; }

 private:
  Tokenizer() = default;
  bool validId(int id) const;
  std::string path_;
  std::string unknownSurface_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
};

}  // namespace kvs
