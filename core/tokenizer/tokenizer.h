#pragma once
// The model's tokenizer, of either kind the model folder may hold: a SentencePiece .model file
// (Llama 2, Mistral) or a Hugging Face tokenizer.json with a byte-level BPE model (Llama 3.x,
// Qwen2/2.5/3). Each kind is a TokenizerBackend (tokenizer_backend.h); this class is what callers
// see, the same for both.

#include <memory>
#include <string>
#include <vector>

namespace kvs {

enum class TokenizerKind { kSentencePiece, kByteLevelBpe };

class TokenizerBackend;

class Tokenizer {
 public:
  // path: a SentencePiece .model file, or a tokenizer.json (its folder's tokenizer_config.json,
  // when present, names BOS and EOS). Throws KvsError when the file is missing, is neither kind,
  // is damaged, or uses a part of tokenizer.json this reading does not implement.
  static Tokenizer load(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  TokenizerKind kind() const;
  // "SentencePiece" or "byte-level BPE", for `info` and the app.
  std::string kindName() const;

  // Ids of text, with BOS first when addBos and the tokenizer has one (Qwen's has none).
  // Byte-level BPE: special tokens written in the text (e.g. <|im_start|>) become their ids.
  std::vector<int> encode(const std::string& text, bool addBos = true) const;
  // The text of a whole sequence; control tokens (BOS, EOS, and the BPE kind's special tokens)
  // are invisible, as SentencePiece's Decode and Hugging Face's skip_special_tokens make them.
  std::string decode(const std::vector<int>& ids) const;

  const std::string& path() const { return path_; }
  int vocabSize() const;
  int bosId() const;  // -1 when the tokenizer has none
  int eosId() const;  // -1 when the tokenizer has none
  // SentencePiece: e.g. "▁Once", "<0x0A>", "<s>". BPE: the vocabulary's string, e.g. "ĠOnce",
  // "Ċ" (byte-level characters), "<|begin_of_text|>". KvsError out of range.
  std::string piece(int id) const;
  // The id of a piece (e.g. "<|eot_id|>"), -1 when there is none.
  int pieceId(const std::string& piece) const;
  // The bytes id adds to decoded text when it is not a control token: may be part of a UTF-8
  // character (BPE byte tokens, SentencePiece <0xNN> pieces). SentencePiece's ▁ becomes a space.
  std::string tokenBytes(int id) const;
  // false for an id out of range
  bool isByte(int id) const;  // SentencePiece byte-fallback pieces; the BPE kind has none
  bool isControl(int id) const;
  bool isUnknown(int id) const;
  // What <unk> decodes to: the model's trainer_spec.unk_surface (usually " \u2047 "); empty for
  // the BPE kind, which has no unknown token.
  const std::string& unknownSurface() const { return unknownSurface_; }

  // Ids from the tokenizer's size up to modelVocabSize become valid unused ids (no piece text,
  // invisible in decoded text): Qwen pads its embedding past the tokenizer's last id, and a
  // random-weight model may still produce such an id. Only ever grows.
  void coverModelVocab(int modelVocabSize);

 private:
  Tokenizer() = default;
  bool validId(int id) const;
  bool paddingId(int id) const;
  std::string path_;
  std::string unknownSurface_;
  int paddedVocabSize_ = 0;
  std::unique_ptr<TokenizerBackend> backend_;
};

}  // namespace kvs
