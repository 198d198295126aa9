#pragma once
// Reads the protobuf wire format one field at a time, checking every length against the bytes
// that are left, so a damaged or hostile file is reported instead of read past its end. Enough
// of protobuf to look inside a SentencePiece ModelProto without the generated classes (the static
// SentencePiece build installs no sentencepiece_model.pb.h).

#include <cstdint>
#include <string>
#include <string_view>

namespace kvs::protobuf {

enum WireType : int { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  int wireType = kVarint;
  uint64_t varint = 0;     // kVarint
  std::string_view bytes;  // kLengthDelimited: the payload; kFixed32 / kFixed64: the raw bytes
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }
  // Reads the next field; false when the bytes are not well-formed (error() says why and where).
  // Groups (wire types 3 and 4, deprecated since proto2) count as malformed: models never hold
  // them.
  bool next(Field* field) {
    const size_t start = pos_;
    uint64_t key = 0;
    if (!readVarint(&key)) return fail(start, "truncated or overlong field key");
    field->number = static_cast<uint32_t>(key >> 3);
    field->wireType = static_cast<int>(key & 7);
    if (field->number == 0 || (key >> 3) > 0x1FFFFFFF) return fail(start, "invalid field number");
    switch (field->wireType) {
      case kVarint:
        if (!readVarint(&field->varint)) return fail(start, "truncated varint");
        return true;
      case kFixed64:
        return take(8, field, start);
      case kFixed32:
        return take(4, field, start);
      case kLengthDelimited: {
        uint64_t length = 0;
        if (!readVarint(&length)) return fail(start, "truncated length");
        return take(length, field, start);
      }
      default:
        return fail(start, "unsupported wire type " + std::to_string(field->wireType));
    }
  }
  const std::string& error() const { return error_; }

 private:
  bool readVarint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return true;
    }
    return false;  // ran off the end, or more than 10 bytes
  }
  bool take(uint64_t length, Field* field, size_t start) {
    if (length > data_.size() - pos_) {
      return fail(start, "a field of " + std::to_string(length) + " bytes where " +
                             std::to_string(data_.size() - pos_) + " are left");
    }
    field->bytes = data_.substr(pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return true;
  }
  bool fail(size_t at, const std::string& what) {
    error_ = what + " at byte " + std::to_string(at);
    pos_ = data_.size();
    return false;
  }

  std::string_view data_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace kvs::protobuf
