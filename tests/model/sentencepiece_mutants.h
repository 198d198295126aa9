#pragma once
// Damaged copies of the real tok512.model, made by rewriting one protobuf field of it (the
// fuzzing cases of the tokenizer loader), and a small valid normalization charsmap to damage.

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "test_util.h"
#include "tokenizer/protobuf_wire.h"

namespace kvs::test::spm {

// sentencepiece_model.proto field numbers used here.
constexpr uint32_t kPieces = 1, kTrainerSpec = 2, kNormalizerSpec = 3, kDenormalizerSpec = 5;
constexpr uint32_t kPieceText = 1, kPieceType = 3;
constexpr uint32_t kBosId = 41;
constexpr uint32_t kPrecompiledCharsmap = 2;
constexpr int kNormal = 1, kControl = 3;

inline std::string varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7F) | 0x80);
  return out + static_cast<char>(v);
}
inline std::string varintField(uint32_t number, uint64_t value) {
  return varint(uint64_t{number} << 3 | protobuf::kVarint) + varint(value);
}
inline std::string bytesField(uint32_t number, std::string_view payload) {
  return varint(uint64_t{number} << 3 | protobuf::kLengthDelimited) + varint(payload.size()) +
         std::string(payload);
}
inline std::string encode(const protobuf::Field& f) {
  switch (f.wireType) {
    case protobuf::kVarint:
      return varintField(f.number, f.varint);
    case protobuf::kLengthDelimited:
      return bytesField(f.number, f.bytes);
    default:
      return varint(uint64_t{f.number} << 3 | f.wireType) + std::string(f.bytes);
  }
}

// `message` with each field replaced by what `edit` returns for it (nullopt: kept as it is).
// `index` counts the fields with the same number so far (the n-th piece).
using FieldEdit = std::function<std::optional<std::string>(const protobuf::Field&, int index)>;
inline std::string rewrite(std::string_view message, const FieldEdit& edit) {
  protobuf::WireReader reader(message);
  protobuf::Field f;
  std::string out;
  int seen[64] = {};
  while (!reader.done() && reader.next(&f)) {
    const int index = f.number < 64 ? seen[f.number]++ : 0;
    const auto replaced = edit(f, index);
    out += replaced ? *replaced : encode(f);
  }
  return out;
}

inline std::string goodModel() {
  return readFile(modelPath("tok512.model"));
}

// tok512.model with piece `id`'s type changed.
inline std::string withPieceType(int id, int type) {
  return rewrite(goodModel(),
                 [&](const protobuf::Field& f, int index) -> std::optional<std::string> {
                   if (f.number != kPieces || index != id) return std::nullopt;
                   return bytesField(kPieces, rewrite(f.bytes, [&](const protobuf::Field& g, int) {
                                       return g.number == kPieceType
                                                  ? std::optional(varintField(kPieceType, type))
                                                  : std::nullopt;
                                     }));
                 });
}

// tok512.model with one more trainer_spec field (protobuf: the last value of a field wins).
inline std::string withTrainerField(const std::string& field) {
  return rewrite(goodModel(), [&](const protobuf::Field& f, int) -> std::optional<std::string> {
    if (f.number != kTrainerSpec) return std::nullopt;
    return bytesField(kTrainerSpec, std::string(f.bytes) + field);
  });
}

// tok512.model (normalizer "identity", no charsmap) with this normalizer (or denormalizer)
// precompiled_charsmap.
inline std::string withCharsmap(const std::string& charsmap, bool denormalizer = false) {
  std::string spec = bytesField(1, "custom") + bytesField(kPrecompiledCharsmap, charsmap);
  std::string model = goodModel();
  if (denormalizer) return model + bytesField(kDenormalizerSpec, spec);
  return rewrite(model, [&](const protobuf::Field& f, int) -> std::optional<std::string> {
    if (f.number != kNormalizerSpec) return std::nullopt;
    return bytesField(kNormalizerSpec, spec);
  });
}

inline std::string littleEndian32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}

// A valid charsmap of one rule, "A" -> "a", as darts-clone lays out a double array: a block of
// 256 units; the root (unit 0) has offset 1; the unit for 'A' is 1 ^ 0x41 = 64, with a leaf and
// offset 136; its leaf unit 64 ^ 136 = 200 holds byte 0 of the replacement text "a\0". Unused
// unit i has label i ^ 3, which no byte leads to from base 1 or 200 (darts-clone's fix_block).
inline std::string trieOfOneRule() {
  std::string trie;
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t unit = (i ^ 3) & 0xFF;
    if (i == 0) unit = 1u << 10;
    if (i == 64) unit = (136u << 10) | (1u << 8) | 0x41;
    if (i == 200) unit = 1u << 31;
    trie += littleEndian32(unit);
  }
  return trie;
}
inline std::string charsmapOfOneRule() {
  const std::string trie = trieOfOneRule();
  return littleEndian32(static_cast<uint32_t>(trie.size())) + trie + std::string("a\0", 2);
}

// Rules "a" -> "a", "aa" -> "a", ..., `depth` a's -> "a": an input of `depth` a's matches them
// all at once. State k has base 256 k + 1 in block k; its unit for 'a' (base ^ 0x61) has a leaf
// and leads to base 256 (k + 1) + 1, whose own unit is the leaf (value 0: the text "a\0").
inline std::string charsmapOfNestedRules(uint32_t depth) {
  const uint32_t units = 256 * (depth + 1);
  std::string trie;
  for (uint32_t i = 0; i < units; ++i) {
    const uint32_t block = i / 256, base = 256 * block + 1, nextBase = base + 256;
    uint32_t unit = (i ^ 3) & 0xFF;  // matches no byte from this block's base
    if (i == 0) unit = 1u << 10;     // the root: base 1
    if (block < depth && i == (base ^ 0x61)) unit = ((i ^ nextBase) << 10) | (1u << 8) | 0x61;
    if (block > 0 && i == base) unit = 1u << 31;  // the leaf of the rule ending here
    trie += littleEndian32(unit);
  }
  return littleEndian32(static_cast<uint32_t>(trie.size())) + trie + std::string("a\0", 2);
}

// The same layout with a trie of random bytes (a fixed seed: the same bytes on every run).
inline std::string charsmapOfRandomTrie(uint32_t seed) {
  std::mt19937 random(seed);
  std::string trie(1024, '\0');
  for (char& c : trie) c = static_cast<char>(random() & 0xFF);
  return littleEndian32(static_cast<uint32_t>(trie.size())) + trie + std::string("a\0", 2);
}

}  // namespace kvs::test::spm
