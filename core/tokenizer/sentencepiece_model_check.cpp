#include "tokenizer/sentencepiece_model_check.h"

#include <cstdint>
#include <functional>
#include <vector>

#include "tokenizer/charsmap_check.h"
#include "tokenizer/protobuf_wire.h"
#include "util/error.h"

namespace kvs {
namespace {

// Field numbers and enums of sentencepiece_model.proto (SentencePiece 0.1.97).
namespace field {
constexpr uint32_t kPieces = 1, kTrainerSpec = 2, kNormalizerSpec = 3, kDenormalizerSpec = 5;
constexpr uint32_t kPieceText = 1, kPieceType = 3;
constexpr uint32_t kModelType = 3, kUnkId = 40, kBosId = 41, kEosId = 42, kPadId = 43,
                   kUnkPiece = 45, kBosPiece = 46, kEosPiece = 47, kPadPiece = 48;
constexpr uint32_t kPrecompiledCharsmap = 2;
}  // namespace field

enum PieceType : int {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

const char* typeName(int type) {
  switch (type) {
    case kNormal:
      return "NORMAL";
    case kUnknown:
      return "UNKNOWN";
    case kControl:
      return "CONTROL";
    case kUserDefined:
      return "USER_DEFINED";
    case kUnused:
      return "UNUSED";
    case kByte:
      return "BYTE";
    default:
      return "?";
  }
}

struct Piece {
  std::string_view text;
  int type = kNormal;
};

// What the checks need of a ModelProto, with protobuf's defaults. As protobuf does, a repeated
// message field merges into the one before it, a repeated scalar replaces it, and an enum value
// the schema does not know leaves the field as it was.
struct ModelFacts {
  std::vector<Piece> pieces;
  int modelType = 1;  // UNIGRAM
  int32_t unkId = 0, bosId = 1, eosId = 2, padId = -1;
  std::string_view bosPiece, eosPiece;  // empty: SentencePiece's defaults "<s>" and "</s>"
  std::string_view charsmap, denormalizerCharsmap;
};

class Checker {
 public:
  explicit Checker(const std::string& path) : path_(path) {}

  [[noreturn]] void notAModel(const std::string& why) const {
    throw KvsError("not a SentencePiece tokenizer model: " + path_ + " (" + why +
                   "); pass the .model file the model was trained with, not llama2.c's "
                   "tokenizer .bin");
  }
  [[noreturn]] void damaged(const std::string& why) const {
    throw KvsError("damaged SentencePiece tokenizer model " + path_ + ": " + why +
                   "; use an intact copy of the tokenizer the model was trained with");
  }

  // Calls onField for each field of `message`; a malformed one is reported with `where`.
  void forEachField(std::string_view message, const std::string& where,
                    const std::function<void(const protobuf::Field&)>& onField) const {
    protobuf::WireReader reader(message);
    protobuf::Field f;
    while (!reader.done()) {
      if (!reader.next(&f)) notAModel("malformed protobuf in " + where + ": " + reader.error());
      onField(f);
    }
  }

  ModelFacts read(std::string_view bytes) const {
    ModelFacts m;
    forEachField(bytes, "the model", [&](const protobuf::Field& f) {
      if (f.wireType != protobuf::kLengthDelimited) return;  // unknown fields are skipped
      if (f.number == field::kPieces) {
        readPiece(f.bytes, static_cast<int>(m.pieces.size()), &m.pieces.emplace_back());
      } else if (f.number == field::kTrainerSpec) {
        readTrainerSpec(f.bytes, &m);
      } else if (f.number == field::kNormalizerSpec) {
        readCharsmap(f.bytes, "the normalizer spec", &m.charsmap);
      } else if (f.number == field::kDenormalizerSpec) {
        readCharsmap(f.bytes, "the denormalizer spec", &m.denormalizerCharsmap);
      }
    });
    return m;
  }

  void check(const ModelFacts& m) const {
    const int n = static_cast<int>(m.pieces.size());
    if (n == 0) notAModel("it holds no pieces");
    for (int i = 0; i < n; ++i) {
      // SentencePiece builds its tries from the pieces as C strings.
      if (m.pieces[i].text.find('\0') != std::string_view::npos) {
        damaged("piece " + std::to_string(i) + " holds a NUL byte");
      }
    }
    if (m.modelType < 1 || m.modelType > 4) {
      damaged("unknown model type " + std::to_string(m.modelType));
    }
    requirePiece(m, "unk", m.unkId, kUnknown, {});
    if (m.bosId < 0) {
      damaged("it has no BOS piece (trainer_spec.bos_id is " + std::to_string(m.bosId) +
              "), and Llama prompts begin with BOS");
    }
    requirePiece(m, "BOS", m.bosId, kControl, m.bosPiece.empty() ? "<s>" : m.bosPiece);
    if (m.eosId >= 0) {
      requirePiece(m, "EOS", m.eosId, kControl, m.eosPiece.empty() ? "</s>" : m.eosPiece);
    }
    if (m.padId >= 0) requirePiece(m, "pad", m.padId, kControl, {});
    for (const auto& [blob, where] : {std::make_pair(m.charsmap, "normalizer"),
                                      std::make_pair(m.denormalizerCharsmap, "denormalizer")}) {
      const std::string problem = charsmapProblem(blob);
      if (!problem.empty()) {
        damaged(std::string("the ") + where + "'s precompiled_charsmap (" +
                std::to_string(blob.size()) + " bytes) is broken: " + problem);
      }
    }
  }

 private:
  void readPiece(std::string_view message, int index, Piece* piece) const {
    forEachField(message, "piece " + std::to_string(index), [&](const protobuf::Field& f) {
      if (f.number == field::kPieceText && f.wireType == protobuf::kLengthDelimited) {
        piece->text = f.bytes;
      } else if (f.number == field::kPieceType && f.wireType == protobuf::kVarint) {
        if (f.varint >= kNormal && f.varint <= kByte) piece->type = static_cast<int>(f.varint);
      }
    });
  }

  void readTrainerSpec(std::string_view message, ModelFacts* m) const {
    forEachField(message, "the trainer spec", [&](const protobuf::Field& f) {
      if (f.wireType == protobuf::kVarint) {
        const auto value = static_cast<int32_t>(static_cast<uint32_t>(f.varint));  // as int32
        if (f.number == field::kModelType && f.varint >= 1 && f.varint <= 4) m->modelType = value;
        if (f.number == field::kUnkId) m->unkId = value;
        if (f.number == field::kBosId) m->bosId = value;
        if (f.number == field::kEosId) m->eosId = value;
        if (f.number == field::kPadId) m->padId = value;
      } else if (f.wireType == protobuf::kLengthDelimited) {
        if (f.number == field::kBosPiece) m->bosPiece = f.bytes;
        if (f.number == field::kEosPiece) m->eosPiece = f.bytes;
      }
    });
  }

  void readCharsmap(std::string_view message, const std::string& where,
                    std::string_view* charsmap) const {
    forEachField(message, where, [&](const protobuf::Field& f) {
      if (f.number == field::kPrecompiledCharsmap && f.wireType == protobuf::kLengthDelimited) {
        *charsmap = f.bytes;
      }
    });
  }

  // The piece trainer_spec names for `role` must exist, have `type` and, where SentencePiece
  // finds it by name (BOS, EOS), carry that name.
  void requirePiece(const ModelFacts& m, const std::string& role, int32_t id, int type,
                    std::string_view name) const {
    const int n = static_cast<int>(m.pieces.size());
    if (id < 0 || id >= n) {
      damaged("its " + role + " id " + std::to_string(id) + " is not a piece id (0 to " +
              std::to_string(n - 1) + ")");
    }
    const Piece& piece = m.pieces[id];
    if (piece.type != type) {
      damaged("its " + role + " piece " + std::to_string(id) + " ('" + shownOnOneLine(piece.text) +
              "') has type " + typeName(piece.type) + ", not " + typeName(type));
    }
    if (!name.empty() && piece.text != name) {
      damaged("its " + role + " piece " + std::to_string(id) + " is '" +
              shownOnOneLine(piece.text) + "' but trainer_spec names it '" + shownOnOneLine(name) +
              "'");
    }
  }

  const std::string& path_;
};

}  // namespace

std::string shownOnOneLine(std::string_view text, size_t maxBytes) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < text.size() && i < maxBytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7F) {
      out += static_cast<char>(c);
    } else {
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    }
  }
  return text.size() > maxBytes ? out + "..." : out;
}

void checkSentencePieceModel(std::string_view bytes, const std::string& path) {
  const Checker checker(path);
  checker.check(checker.read(bytes));
}

}  // namespace kvs
